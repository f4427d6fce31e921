/*
 * log.h - leveled logging to stderr. The level comes from the config key
 * `log_level`; messages name the subsystem so a user can tell where a drop
 * or an error came from.
 */
#ifndef AATCP_LOG_H
#define AATCP_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARNING, LOG_INFO, LOG_DEBUG };

extern int aatcp_log_level;

void aatcp_log(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define LOG_ERR(...) aatcp_log(LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) aatcp_log(LOG_WARNING, __VA_ARGS__)
#define LOG_INFO(...)                                                   \
	do {                                                            \
		if (aatcp_log_level >= LOG_INFO)                        \
			aatcp_log(LOG_INFO, __VA_ARGS__);               \
	} while (0)
#define LOG_DBG(...)                                                    \
	do {                                                            \
		if (aatcp_log_level >= LOG_DEBUG)                       \
			aatcp_log(LOG_DEBUG, __VA_ARGS__);              \
	} while (0)

#endif /* AATCP_LOG_H */
