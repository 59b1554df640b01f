/* idn.c: internationalized order identifiers. The CA, the CSR and the ACME identifiers
 * carry A-labels only (IDNA2008, RFC 5891: NFC, lower case, punycode with "xn--"); users may
 * write U-labels ("räksmörgås.se"). libidn2 does the IDNA2008 work, with the UTS #46
 * non-transitional mapping for upper case, so a name that is no valid IDN is refused with a
 * 400 here rather than by the CA later. ASCII names are left exactly as given (the CA
 * compares them case-insensitively; existing orders keep their spelling). IP address
 * literals become their canonical text (ipaddr.c), so "2001:DB8:0::1" and "2001:db8::1" are
 * one identifier in orders, lookups and the CA's authorizations. */
#include <arpa/inet.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

bool idn_is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

int idn_to_alabel(const char *in, char **out, struct err *e)
{
    *out = NULL;
    if (ip_is_literal(in)) {
        char canon[INET6_ADDRSTRLEN];
        if (ip_canon(in, canon, sizeof canon, e) < 0)
            return -1;
        if (!(*out = strdup(canon)))
            return err_set(e, ERR_INTERNAL, "out of memory");
        return 0;
    }
    if (idn_is_ascii(in)) {
        if (!(*out = strdup(in)))
            return err_set(e, ERR_INTERNAL, "out of memory");
        return 0;
    }
    bool wild = strncmp(in, "*.", 2) == 0;
    char *ascii = NULL;
    int rc = idn2_to_ascii_8z(wild ? in + 2 : in, &ascii,
                              IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK)
        return err_set(e, ERR_INVALID, "%.200s is not a valid internationalized domain name "
                       "(IDNA2008): %s", in, idn2_strerror(rc));
    size_t n = strlen(ascii);
    *out = malloc(n + 3);
    if (!*out) {
        idn2_free(ascii);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    strcpy(*out, wild ? "*." : "");
    strcat(*out, ascii);
    idn2_free(ascii);
    return 0;
}
