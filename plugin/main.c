/* main.c: vault-plugin-secrets-pki-external-ca. Wires the engine to the runtime. */
#include "engine.h"
#include "runtime.h"

int main(int argc, char **argv)
{
    return runtime_serve(&engine_backend, argc, argv);
}
