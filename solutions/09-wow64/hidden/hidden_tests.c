/* hidden_tests.c - lab 09's hidden checkpoints (instructor tree only): the thunk cases three
 * more times, on another random stream (solutions/09-wow64/hidden/models/lab09h.py). */
#include "wow64_support.h"

KTEST("wow64.thunks_sweep", KtWow64ThunksSweep)
{
    KtwRunThunkCases(Context, 3);
}
