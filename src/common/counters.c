/* counters.c - names of the drop reasons, for stats output. */
#include "common/counters.h"

const char *const drop_reason_names[DROP_MAX] = {
#define X(name) #name,
	DROP_REASONS(X)
#undef X
};
