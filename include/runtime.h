/* runtime.h: the Vault/OpenBao external plugin runtime. Performs the go-plugin handshake
 * (AutoMTLS, protocol v5), serves pb.Backend and the go-plugin services over gRPC, dials
 * the host's Storage and SystemView through the broker, and drives a struct fw_backend.
 * The only code in the project that sees protobuf. */
#ifndef PKIEXT_RUNTIME_H
#define PKIEXT_RUNTIME_H

#include "fw.h"

/* Runs the plugin until the host shuts it down. Returns the process exit status:
 * 0 after a clean shutdown, 1 when run by hand (no magic cookie) or on a fatal error
 * (message on stderr). Sets up logging from the host's environment. */
int runtime_serve(const struct fw_backend *backend, int argc, char **argv);

#endif
