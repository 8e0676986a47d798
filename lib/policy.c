// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "policy.h"

void policy_free(struct policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nifaces; i++)
		free(p->ifaces[i].allow);
	free(p->ifaces);
	free(p->classes);
	free(p->flows);
	memset(p, 0, sizeof(*p));
}
