/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * list.h - intrusive circular doubly linked lists, the one container the
 * core uses for queues (RPCs of a socket, ready queues, throttled messages).
 * An empty list's head points at itself. All operations are O(1) except
 * homa_list_count.
 */
#ifndef HOMA_CORE_LIST_H
#define HOMA_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct homa_list {
	struct homa_list *next; /* next node, or the head */
	struct homa_list *prev; /* previous node, or the head */
};

#define homa_container_of(ptr, type, member)                                   \
	((type *)((char *)(ptr)-offsetof(type, member)))

static inline void homa_list_init(struct homa_list *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool homa_list_empty(const struct homa_list *head)
{
	return head->next == head;
}

/* A node that was initialized or deleted is not on any list. */
static inline bool homa_list_linked(const struct homa_list *node)
{
	return node->next != node;
}

static inline void homa_list_insert_after(struct homa_list *pos,
					  struct homa_list *node)
{
	node->prev = pos;
	node->next = pos->next;
	pos->next->prev = node;
	pos->next = node;
}

static inline void homa_list_add_tail(struct homa_list *head,
				      struct homa_list *node)
{
	homa_list_insert_after(head->prev, node);
}

static inline void homa_list_add_head(struct homa_list *head,
				      struct homa_list *node)
{
	homa_list_insert_after(head, node);
}

/* Unlink node and leave it self-linked, so deleting twice is harmless. */
static inline void homa_list_del(struct homa_list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	homa_list_init(node);
}

static inline size_t homa_list_count(const struct homa_list *head)
{
	size_t n = 0;
	for (const struct homa_list *p = head->next; p != head; p = p->next)
		n++;
	return n;
}

#define homa_list_for_each(pos, head)                                          \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/* Safe against removal of pos inside the loop body. */
#define homa_list_for_each_safe(pos, tmp, head)                                \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);       \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif /* HOMA_CORE_LIST_H */
