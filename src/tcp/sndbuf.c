/* sndbuf.c - copying send buffer, see sndbuf.h. */
#include "tcp/sndbuf.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/seq.h"
#include "net/csum.h"

static uint64_t load_acq(const uint64_t *p)
{
	return atomic_load_explicit((_Atomic uint64_t *)p, memory_order_acquire);
}

static void store_rel(uint64_t *p, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)p, v, memory_order_release);
}

struct sndbuf *sndbuf_create(uint32_t size)
{
	struct sndbuf *sb = calloc(1, sizeof(*sb));

	if (!sb)
		return NULL;
	sb->data = malloc(size);
	if (!sb->data) {
		free(sb);
		return NULL;
	}
	sb->size = size;
	return sb;
}

void sndbuf_destroy(struct sndbuf *sb)
{
	if (!sb)
		return;
	free(sb->data);
	free(sb);
}

void sndbuf_reset(struct sndbuf *sb)
{
	char *data = sb->data;
	uint32_t size = sb->size;

	memset(sb, 0, sizeof(*sb));
	sb->data = data;
	sb->size = size;
}

uint64_t sndbuf_used(const struct sndbuf *sb)
{
	return load_acq(&sb->tail) - load_acq(&sb->head);
}

uint32_t sndbuf_space(const struct sndbuf *sb)
{
	return sb->size - (uint32_t)sndbuf_used(sb);
}

size_t sndbuf_write(struct sndbuf *sb, const char *buf, size_t len)
{
	uint64_t tail = sb->tail;
	uint32_t space = sndbuf_space(sb);
	uint32_t off = (uint32_t)(tail % sb->size);
	size_t first;

	if (len > space)
		len = space;
	if (!len)
		return 0;
	first = sb->size - off;
	if (first >= len) {
		memcpy(sb->data + off, buf, len);
	} else {
		memcpy(sb->data + off, buf, first);
		memcpy(sb->data, buf + first, len - first);
	}
	store_rel(&sb->tail, tail + len);
	return len;
}

void sndbuf_set_seq(struct sndbuf *sb, uint32_t seq)
{
	sb->head_seq = seq;
}

uint32_t sndbuf_end_seq(const struct sndbuf *sb)
{
	return sb->head_seq + (uint32_t)(load_acq(&sb->tail) - sb->head);
}

uint64_t sndbuf_copy(const struct sndbuf *sb, uint32_t seq, char *dst, uint32_t len,
		     bool sum)
{
	uint64_t pos = sb->head + (uint32_t)(seq - sb->head_seq);
	uint32_t off = (uint32_t)(pos % sb->size);
	uint32_t first = sb->size - off;

	if (first > len)
		first = len;
	if (!sum) {
		memcpy(dst, sb->data + off, first);
		memcpy(dst + first, sb->data, len - first);
		return 0;
	}
	/* the buffer wraps: the second piece starts at offset `first` */
	return csum_copy(dst, sb->data + off, first, 0) +
	       csum_shift(csum_copy(dst + first, sb->data, len - first, 0), first);
}

uint32_t sndbuf_ack(struct sndbuf *sb, uint32_t ack)
{
	uint64_t avail = load_acq(&sb->tail) - sb->head;
	uint32_t n;

	if (seq_leq(ack, sb->head_seq))
		return 0;
	n = ack - sb->head_seq;
	if (n > avail)
		n = (uint32_t)avail; /* the ACK also covers our FIN */
	sb->head_seq += n;
	store_rel(&sb->head, sb->head + n);
	return n;
}
