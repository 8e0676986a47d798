/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * qtree.h - a device's egress qdisc tree saved to a file as the kernel
 * describes it, and made again from it (qtree.c).
 */
#ifndef NASCAR_QTREE_H
#define NASCAR_QTREE_H

/* Saves the qdiscs and classes of ifindex (clsact/ingress aside) to path.
 * 0; -ENOTSUP with the reason in why when the tree cannot be made again
 * exactly (it has filters, or nothing of its own); other -errno on
 * failure, why says what.  Nothing is left at path unless it returns 0. */
int qtree_save(int ifindex, const char *path, char *why, size_t whylen);

/* Makes the tree saved at path again on ifindex, root first, in the place
 * of whatever root is there.  0, or -errno with what failed in err (the
 * objects made before it stay). */
int qtree_restore(int ifindex, const char *path, char *err, size_t errlen);

#endif /* NASCAR_QTREE_H */
