#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_mode_matrix_on.sh: the mode matrix (mode_matrix.sh) with the
# guest's offloads on.
exec bash "$(cd "$(dirname "$0")" && pwd)/mode_matrix.sh" on
