/* obreset.c - taking the object manager down again (framework, for tests): every
 * directory of the namespace with everything named in it, the root, the system process
 * with its handle table and the initial thread's object are freed by the framework's own
 * hands, the type objects go back to unnamed, and the next use builds all again. Lab 06's
 * tests end with it, so that every test starts from a fresh namespace and leaves the pool
 * as it found it (later tests, e.g. the pool's, expect an empty pool). */
#include "ps.h"
#include "rtl.h"

/* Frees an object's block without its methods (its owner is gone). */
static VOID ObpFreeObjectBlock(PVOID Body)
{
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Body);
    POBJECT_TYPE type = h->Type;
    PVOID block = h->NameInfoOffset ? (PVOID)OBJECT_HEADER_TO_NAME_INFO(h) : (PVOID)h;
    h->Signature = 0;
    type->TotalNumberOfObjects--;
    ExFreePoolWithTag(block, type->TypeInfo.PoolTag);
}

static VOID ObpTearDownDirectory(POBJECT_DIRECTORY Directory, ULONG Depth)
{
    for (ULONG b = 0; b < NUMBER_HASH_BUCKETS; b++) {
        POBJECT_DIRECTORY_ENTRY e = Directory->HashBuckets[b];
        ULONG guard = 0;
        while (e && guard++ < 100000) {
            POBJECT_DIRECTORY_ENTRY next = e->ChainLink;
            PVOID object = e->Object;
            POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(object);
            if (h->Type == ObpTypeObjectType) {
                /* A static type object: unnamed again, its own reference only. */
                POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(h);
                ni->Directory = NULL;
                h->PointerCount = 1;
            } else if (h->Signature == OB_HEADER_SIGNATURE) {
                if (h->Type == ObpDirectoryObjectType && Depth < 16)
                    ObpTearDownDirectory(object, Depth + 1);
                ObpFreeObjectBlock(object);
            }
            ExFreePoolWithTag(e, OB_DIRECTORY_ENTRY_TAG);
            e = next;
        }
        Directory->HashBuckets[b] = NULL;
    }
    Directory->EntryCount = 0;
}

VOID PspResetObjects(VOID);

VOID ObpResetObjectManager(VOID)
{
    if (ObpRootDirectoryObject) {
        ObpTearDownDirectory(ObpRootDirectoryObject, 0);
        ObpFreeObjectBlock(ObpRootDirectoryObject);
        ObpRootDirectoryObject = NULL;
    }
    PspResetObjects();
}
