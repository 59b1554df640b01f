/* fuzz_aws.c: what AWS sends us (src/dns/aws.c, route53.c): Route 53 ListHostedZones and
 * ListResourceRecordSets replies, error replies (aws_error), STS AssumeRole replies, the
 * instance metadata service's credentials JSON, and the shared credentials file (an INI
 * file an operator or a tool wrote). The first byte picks the reader; the rest is the
 * document. Seeds: the shapes moto and the AWS documentation give (test/dns). */
#include "fuzz_util.h"

#include "../../src/dns/aws.h"

#include <libxml/parser.h>

static void quiet(void *ctx, const char *msg, ...) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        xmlInitParser();
        xmlSetGenericErrorFunc(NULL, quiet);
        init = true;
    }
    if (size < 1)
        return 0;
    unsigned which = data[0] % 5;
    char *doc = fuzz_cstr(data + 1, size - 1);
    if (!doc)
        return 0;
    struct aws_reply r = { .status = 200 + (data[0] % 4) * 100, .body = doc, .len = size - 1 };
    struct aws_creds c;
    memset(&c, 0, sizeof c);
    switch (which) {
    case 0: {   /* ListHostedZones */
        char best[300] = "", id[200], marker[200];
        xmlDoc *d = aws_xml_parse(&r);
        r53_zones_page(d, "_acme-challenge.www.example.com", best, sizeof best, id, sizeof id,
                       marker, sizeof marker);
        xmlFreeDoc(d);
        break;
    }
    case 1: {   /* ListResourceRecordSets */
        static char vals[R53_MAX_VALUES + 1][130];
        size_t n;
        long ttl;
        xmlDoc *d = aws_xml_parse(&r);
        r53_rrset_parse(d, "_acme-challenge.www.example.com.", vals, &n, &ttl);
        xmlFreeDoc(d);
        break;
    }
    case 2: {   /* an error reply, and the same bytes as an STS reply */
        struct err e = { 0 };
        aws_error("fuzz", &r, &e);
        xmlDoc *d = aws_xml_parse(&r);
        aws_creds_from_sts(d, &c);
        xmlFreeDoc(d);
        break;
    }
    case 3: {   /* IMDS credentials JSON */
        bool found;
        aws_creds_from_imds_json(doc, &c, &found);
        break;
    }
    default: {  /* shared credentials file */
        FILE *fp = size > 1 ? fmemopen((void *)(data + 1), size - 1, "r") : NULL;
        if (fp) {
            aws_creds_from_ini(fp, "default", &c);
            fclose(fp);
        }
        break;
    }
    }
    aws_creds_wipe(&c);
    free(doc);
    return 0;
}
