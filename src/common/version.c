/* version.c - the library's version string, for provenance (`aatcp_version`). */
#include "aatcp_version.h"

const char *aatcp_version(void) { return AATCP_VERSION_STRING; }
