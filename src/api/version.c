/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * version.c - homa_version(): the version this library was built as, for
 * programs that want to compare it with the header's HOMA_VERSION_STRING.
 */
#include "homa.h"

const char *homa_version(void)
{
	return HOMA_VERSION_STRING;
}
