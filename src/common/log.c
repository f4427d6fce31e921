/* log.c - see log.h. One fprintf per message so lines from the network and
 * application threads do not interleave mid-line. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

int aatcp_log_level = LOG_WARNING;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void aatcp_log(enum log_level lvl, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if ((int)lvl > aatcp_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "aatcp %s: %s\n", level_names[lvl], line);
}
