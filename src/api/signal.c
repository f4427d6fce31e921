/*
 * signal.c - mtcp_register_signal(): as in mTCP, a signal the application
 * registers interrupts its blocked calls. The handler runs once per
 * delivery (on whichever thread the kernel picked), then every context is
 * marked interrupted and its application thread woken: a blocked
 * mtcp_epoll_wait() (and blocking accept, read, write, connect) returns -1
 * with errno EINTR, so a loop like mTCP's examples'
 *
 *     while (!done) { n = mtcp_epoll_wait(m, ep, evs, max, -1); ... }
 *
 * sees the flag its handler set. A mark made while the thread was not
 * blocked is kept for its next blocking call (no lost wake-up).
 */
#include <signal.h>
#include <string.h>

#include "api/internal.h"

static _Atomic(mtcp_sighandler_t) app_handlers[NSIG];

/* Async-signal-safe: atomics and the futex syscall only. */
static void on_signal(int signum)
{
	mtcp_sighandler_t h = atomic_load(&app_handlers[signum]);

	if (h && h != SIG_IGN && h != SIG_DFL)
		h(signum);
	for (int i = 0; i < MAX_CORES; i++) {
		struct core *c = aatcp_g.cores[i];
		if (c)
			app_interrupt(c);
	}
}

mtcp_sighandler_t mtcp_register_signal(int signum, mtcp_sighandler_t handler)
{
	struct sigaction sa, old;

	if (signum <= 0 || signum >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&sa, 0, sizeof(sa));
	/* SIG_IGN and SIG_DFL are the kernel's; anything else runs through
	 * on_signal. No SA_RESTART: a signal ends a blocking call. */
	sa.sa_handler = handler == SIG_IGN || handler == SIG_DFL ? handler : on_signal;
	sigemptyset(&sa.sa_mask);
	mtcp_sighandler_t prev = atomic_exchange(&app_handlers[signum], handler);
	if (sigaction(signum, &sa, &old)) {
		atomic_store(&app_handlers[signum], prev);
		return SIG_ERR;
	}
	return old.sa_handler == on_signal ? prev : old.sa_handler;
}
