/* fuzz_pb_request.c: bytes of a pb.HandleRequestArgs from the host -> protobuf-c unpack ->
 * convert_request -> routing against the engine's real path table (no handler runs: those
 * would reach storage and CAs). */
#include "fuzz_util.h"

#include <cjson/cJSON.h>

#include "../../src/runtime/convert.h"
#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Pb__HandleRequestArgs *args = pb__handle_request_args__unpack(NULL, size, data);
    if (!args)
        return 0;
    if (args->request) {
        struct fw_req req;
        cJSON *body = NULL;
        struct err e = { 0 };
        if (convert_request(args->request, &req, &body, &e) == 0)
            fw_request_is_remote(&engine_backend, req.path, req.operation);
        cJSON_Delete(body);
    }
    pb__handle_request_args__free_unpacked(args, NULL);
    return 0;
}
