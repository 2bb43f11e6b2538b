/* ex.h - the executive: pools (lab 03). ExAllocatePoolWithTag / ExFreePoolWithTag
 * over nonpaged and paged pool; small blocks live in pool pages with a POOL_HEADER
 * each, blocks of more than a page's worth get whole pages of their own. */
#pragma once

#include "ntdef.h"

typedef enum _POOL_TYPE {
    NonPagedPool = 0, /* always resident: usable at any IRQL up to DISPATCH_LEVEL */
    PagedPool = 1     /* may be paged out (lab 08): usable only at IRQL <= APC_LEVEL */
} POOL_TYPE;
#define POOL_TYPE_COUNT 2

/* Small blocks are counted in 16-byte units; a pool page holds 256 units. */
#define POOL_BLOCK_SHIFT 4
#define POOL_BLOCK_SIZE 16
#define POOL_PAGE_UNITS 256
/* The largest small block (header included) is 254 units, so that splitting a fresh
 * page always leaves a free block big enough for its list links (2 units). */
#define POOL_MAX_BLOCK_UNITS 254
#define POOL_SMALL_LIMIT (POOL_MAX_BLOCK_UNITS * POOL_BLOCK_SIZE - sizeof(POOL_HEADER)) /* 4048 bytes */
#define POOL_MIN_BLOCK_UNITS 2

/* In front of every small block. BlockSize and PreviousSize are in 16-byte units. */
typedef struct _POOL_HEADER {
    ULONG PreviousSize : 8; /* the block before this one in the page; 0 for the first */
    ULONG PoolIndex : 8;    /* unused, 0 */
    ULONG BlockSize : 8;    /* this block, header included */
    ULONG PoolType : 8;     /* 0 = free, otherwise POOL_TYPE + 1 */
    ULONG PoolTag;          /* the allocator's tag; kept when the block is freed */
    ULONG64 ProcessBilled;  /* unused, 0 */
} POOL_HEADER, *PPOOL_HEADER;

/* A free small block keeps its list links right after its header. */
#define POOL_FREE_LINKS(h) ((PLIST_ENTRY)((PPOOL_HEADER)(h) + 1))

/* One per pool type. ListHeads[n] links the free blocks of exactly n units. */
typedef struct _POOL_DESCRIPTOR {
    POOL_TYPE PoolType;
    LIST_ENTRY ListHeads[POOL_PAGE_UNITS];
    SIZE_T TotalPages;     /* pool pages holding small blocks */
    SIZE_T TotalBigPages;  /* pages of big allocations */
    SIZE_T RunningAllocs;
    SIZE_T RunningDeAllocs;
} POOL_DESCRIPTOR, *PPOOL_DESCRIPTOR;
extern POOL_DESCRIPTOR ExpPoolDescriptors[POOL_TYPE_COUNT];

/* Per-tag accounting (what !poolused shows). Key 0 = empty slot. */
#define POOL_TRACK_TABLE_SIZE 128
typedef struct _POOL_TRACKER_TABLE {
    ULONG Key;
    LONG Allocs[POOL_TYPE_COUNT];
    LONG Frees[POOL_TYPE_COUNT];
    SIZE_T Bytes[POOL_TYPE_COUNT]; /* bytes outstanding: blocks with headers, or whole pages */
} POOL_TRACKER_TABLE, *PPOOL_TRACKER_TABLE;
extern POOL_TRACKER_TABLE ExpPoolTrackTable[POOL_TRACK_TABLE_SIZE];

/* Big allocations, by address. Va NULL = never used; POOL_BIG_TABLE_FREED = freed slot. */
#define POOL_BIG_TABLE_SIZE 1024
#define POOL_BIG_TABLE_FREED ((PVOID)1)
typedef struct _POOL_TRACKER_BIG_PAGES {
    PVOID Va;
    ULONG Key;
    ULONG NumberOfPages;
    POOL_TYPE PoolType;
} POOL_TRACKER_BIG_PAGES, *PPOOL_TRACKER_BIG_PAGES;
extern POOL_TRACKER_BIG_PAGES ExpPoolBigPageTable[POOL_BIG_TABLE_SIZE];

/* ---- Lab 03 (student code: labs/03-pool/) ---- */
NTSTATUS ExpAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, PVOID *Block);
NTSTATUS ExpFreePool(PVOID Block, ULONG Tag);
NTSTATUS ExpInsertPoolTracker(ULONG Tag, SIZE_T Bytes, POOL_TYPE PoolType);
NTSTATUS ExpRemovePoolTracker(ULONG Tag, SIZE_T Bytes, POOL_TYPE PoolType);
NTSTATUS ExpAddTagForBigPages(PVOID Va, ULONG Tag, ULONG Pages, POOL_TYPE PoolType);
NTSTATUS ExpFindAndRemoveTagBigPages(PVOID Va, PULONG Tag, PULONG Pages, POOL_TYPE *PoolType);

/* ---- Framework: NT's interface over the student code ---- */
PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag); /* NULL on failure */
VOID ExFreePoolWithTag(PVOID Block, ULONG Tag);
VOID ExFreePool(PVOID Block); /* no tag check */
VOID ExInitializePool(VOID);
/* Prints the tag table, one line a tag, like the debugger's !poolused. */
VOID ExDumpPoolUsage(VOID);
/* Pool poisoning (framework): real memory is dirty, so fresh pool pages and blocks as
 * they are freed (ExFreePool*, and the tests before ExpFreePool) are filled with a
 * seeded pattern whose bytes are all odd and >= 0x81 (never a valid PoolType, never
 * zero), so a header or field the allocator forgets to set is caught. */
VOID ExSetPoolPoison(ULONG64 Seed);
ULONG64 ExPoolPoisonPattern(VOID);
VOID ExPoisonMemory(PVOID Va, SIZE_T Bytes);
/* Poisons the data of an allocated block about to be freed (small: the bytes after its
 * header up to the next header; big: its pages), when its header or big-page entry
 * looks sane; never touches a header, a free block, or memory outside the pool. */
VOID ExPoisonBlockForFree(PVOID Block);
/* 'Abcd' tags in source read as the characters in memory order. */
#define POOL_TAG(a, b, c, d) ((ULONG)(a) | ((ULONG)(b) << 8) | ((ULONG)(c) << 16) | ((ULONG)(d) << 24))
