/*
 * aa_pool.c - bounded pools of records and field views, one pair per
 * application-aware stream (see aa_internal.h). Bounded on purpose: when
 * the application keeps its records the pools run dry and parsing waits,
 * which closes the TCP window instead of growing memory (docs/design.md
 * "Invariants"; test_aa_stream).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aa/aa_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define AA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AA_ASAN 1
#endif
#endif

#ifdef AA_ASAN
#include <sanitizer/asan_interface.h>
#define AA_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define AA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define AA_POISON(p, n) ((void)(p), (void)(n))
#define AA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static void **link_of(const struct aa_pool *p, void *e)
{
	return (void **)((char *)e + p->link_off);
}

/* Poisons all of a free element but its link word. */
static void poison(const struct aa_pool *p, void *e)
{
	AA_POISON(e, p->link_off);
	AA_POISON((char *)e + p->link_off + sizeof(void *),
		  p->esize - p->link_off - sizeof(void *));
	(void)p;
	(void)e;
}

int aa_pool_init(struct aa_pool *p, uint32_t n, size_t esize, size_t link_off)
{
	memset(p, 0, sizeof(*p));
	if (n == 0 || link_off + sizeof(void *) > esize)
		return -EINVAL;
	/* Records on cache-line boundaries: the application reads old
	 * records while the network thread fills the next one. Views are
	 * small and written before they are published: just aligned. */
	esize = esize > 32 ? (esize + 63) & ~(size_t)63
			   : (esize + 7) & ~(size_t)7;
	/* C11: the size must be a multiple of the alignment. */
	p->mem = aligned_alloc(64, (esize * n + 63) & ~(size_t)63);
	if (!p->mem)
		return -ENOMEM;
	p->esize = esize;
	p->link_off = link_off;
	p->size = n;
	p->n_free = n;
	return 0;
}

void aa_pool_fini(struct aa_pool *p)
{
	if (p->mem)
		AA_UNPOISON(p->mem, p->esize * p->size);
	free(p->mem);
	memset(p, 0, sizeof(*p));
}

/* The element comes back as it was put (records and views are cleared by
 * their users before they are put), or zeroed when it is new. */
void *aa_pool_get(struct aa_pool *p)
{
	void *e = p->free_list;

	if (e) {
		p->free_list = *link_of(p, e);
		AA_UNPOISON(e, p->esize);
	} else if (p->fresh < p->size) {
		e = p->mem + (size_t)p->fresh++ * p->esize;
		AA_UNPOISON(e, p->esize);
		memset(e, 0, p->esize);
	} else {
		return NULL;
	}
	p->n_free--;
	*link_of(p, e) = NULL;
	return e;
}

void aa_pool_put(struct aa_pool *p, void *e)
{
	*link_of(p, e) = p->free_list;
	p->free_list = e;
	p->n_free++;
	poison(p, e);
}
