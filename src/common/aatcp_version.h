#ifndef AATCP_VERSION_H
#define AATCP_VERSION_H
#define AATCP_VERSION_STRING "0.1.0"
const char *aatcp_version(void);
#endif
