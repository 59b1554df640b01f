/* main.c: the KV test plugin's entry point. */
#include "kv.h"
#include "runtime.h"

int main(int argc, char **argv)
{
    return runtime_serve(&kv_backend, argc, argv);
}
