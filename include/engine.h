/* engine.h: the pki-external-ca secrets engine as a framework backend. */
#ifndef PKIEXT_ENGINE_H
#define PKIEXT_ENGINE_H

#include "fw.h"

extern const struct fw_backend engine_backend;

#endif
