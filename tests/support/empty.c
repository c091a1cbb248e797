/* SPDX-License-Identifier: BSD-2-Clause */
/* empty.c - keeps the test support library non-empty before helpers exist. */
typedef int homa_test_support_empty;
