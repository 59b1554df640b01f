/* aws.c: what the Route 53 provider needs of AWS: credentials (the configuration's keys, else
 * the standard chain: environment, shared credentials file, EC2 instance profile through
 * IMDSv2; then STS AssumeRole when a role is configured), endpoints following AWS's
 * override variables (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), and SigV4-signed
 * calls made by libcurl (CURLOPT_AWS_SIGV4) with replies parsed by libxml2. Credentials
 * are never logged; they live on the stack of one call and are wiped after it. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "aws.h"
#include "internal.h"

static pthread_once_t aws_once = PTHREAD_ONCE_INIT;

static void aws_init(void)
{
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
}

void aws_creds_wipe(struct aws_creds *c)
{
    volatile char *p = (volatile char *)c;
    for (size_t i = 0; i < sizeof *c; i++)
        p[i] = 0;
}

/* ---- HTTP ---------------------------------------------------------------------------- */

static size_t collect(char *data, size_t sz, size_t n, void *ud)
{
    struct aws_reply *r = ud;
    return dns_http_body_add(&r->body, &r->len, data, sz * n);
}

void aws_reply_clear(struct aws_reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* "x-amz-content-sha256: <hex SHA-256 of body>" into buf. SigV4 signs this hash anyway (the
 * canonical request's last line); sending it as a signed header too is what AWS's SDKs do
 * for S3; for other services it is one more signed header. It also lets a verifier that cannot see the raw
 * payload check the signature: moto 5.2.5 rebuilds a body-less request's payload from its
 * query string or headers and so rejects every GET unless this header carries the hash. */
static void content_sha256_header(const char *body, char *buf, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    const char *b = body ? body : "";
    int n = snprintf(buf, cap, "x-amz-content-sha256: ");
    if (!EVP_Digest(b, strlen(b), md, &md_len, EVP_sha256(), NULL))
        md_len = 0;   /* no header value: the server refuses the call, named in its reply */
    for (unsigned int i = 0; i < md_len && (size_t)n + 3 < cap; i++)
        n += snprintf(buf + n, cap - (size_t)n, "%02x", md[i]);
}

int aws_http(const char *method, const char *url, const char *sigv4, const struct aws_creds *c,
             const char *const *headers, const char *body, long timeout_s, struct aws_reply *r,
             struct err *e)
{
    pthread_once(&aws_once, aws_init);
    memset(r, 0, sizeof *r);
    CURL *h = curl_easy_init();
    if (!h)
        return err_set(e, ERR_INTERNAL, "out of memory");
    struct curl_slist *hl = NULL;
    char tok[2200];
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    if (c && c->token[0]) {
        snprintf(tok, sizeof tok, "X-Amz-Security-Token: %s", c->token);
        hl = curl_slist_append(hl, tok);
    }
    char sha_hdr[100];
    if (sigv4 && c) {
        content_sha256_header(body, sha_hdr, sizeof sha_hdr);
        hl = curl_slist_append(hl, sha_hdr);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout_s < 5 ? timeout_s : 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    if (hl)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (sigv4 && c) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->access_key_id);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret_access_key);
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hl);
    memset(tok, 0, sizeof tok);
    if (rc != CURLE_OK) {
        aws_reply_clear(r);
        return err_set(e, ERR_RETRY, "%s %s: %s", method, url, curl_easy_strerror(rc));
    }
    return 0;
}

/* ---- XML ----------------------------------------------------------------------------- */

xmlDoc *aws_xml_parse(const struct aws_reply *r)
{
    if (!r->body || r->len == 0)
        return NULL;
    return xmlReadMemory(r->body, (int)r->len, NULL, NULL,
                         XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                             XML_PARSE_NOWARNING);
}

xmlNode *aws_xml_child(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

xmlNode *aws_xml_path(xmlDoc *d, const char *const *path)
{
    xmlNode *n = d ? xmlDocGetRootElement(d) : NULL;
    if (!n || strcmp((const char *)n->name, path[0]) != 0)
        return NULL;
    for (size_t i = 1; n && path[i]; i++)
        n = aws_xml_child(n, path[i]);
    return n;
}

void aws_xml_text(xmlNode *n, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!n)
        return;
    xmlChar *t = xmlNodeGetContent(n);
    if (t) {
        snprintf(buf, cap, "%s", (const char *)t);
        xmlFree(t);
    }
}

int aws_error(const char *what, const struct aws_reply *r, struct err *e)
{
    char code[128] = "", msg[300] = "";
    xmlDoc *d = aws_xml_parse(r);
    static const char *const p1[] = { "ErrorResponse", "Error", NULL };
    /* moto nests it one level deeper (ErrorResponse/Errors/Error), as EC2 does */
    static const char *const p2[] = { "ErrorResponse", "Errors", "Error", NULL };
    xmlNode *er = aws_xml_path(d, p1);
    if (!er)
        er = aws_xml_path(d, p2);
    if (!er && d && xmlDocGetRootElement(d) &&
        strcmp((const char *)xmlDocGetRootElement(d)->name, "Error") == 0)
        er = xmlDocGetRootElement(d);
    aws_xml_text(aws_xml_child(er, "Code"), code, sizeof code);
    aws_xml_text(aws_xml_child(er, "Message"), msg, sizeof msg);
    xmlFreeDoc(d);
    enum err_kind kind = ERR_UPSTREAM;
    const char *hint = "";
    if (r->status >= 500 || strcmp(code, "Throttling") == 0 ||
        strcmp(code, "PriorRequestNotComplete") == 0 || r->status == 429) {
        kind = ERR_RETRY;
    } else if (strstr(code, "Signature") || strstr(code, "ClientToken") ||
               strcmp(code, "InvalidAccessKeyId") == 0 || strcmp(code, "ExpiredToken") == 0) {
        hint = " (AWS refused the credentials: check access_key_id and secret_access_key, "
               "or the credentials the chain found: environment, shared credentials file, "
               "instance profile)";
    } else if (r->status == 403 || strcmp(code, "AccessDenied") == 0 || strstr(code, "Auth")) {
        hint = " (AWS denied the call: check the IAM policy, and for assume_role_arn the "
               "role's trust policy and external_id)";
    } else if (strcmp(code, "NoSuchHostedZone") == 0) {
        hint = " (zone not found: check hosted_zone_id)";
    }
    return err_set(e, kind, "%s: HTTP %ld %s%s%s%s", what, r->status, code[0] ? code : "",
                   msg[0] ? ": " : "", msg, hint);
}

/* ---- endpoints ----------------------------------------------------------------------- */

void aws_endpoint(const char *service_env, const char *dflt, char *buf, size_t cap)
{
    char var[64];
    snprintf(var, sizeof var, "AWS_ENDPOINT_URL_%s", service_env);
    const char *v = getenv(var);
    dns_endpoint(v && v[0] ? var : "AWS_ENDPOINT_URL", dflt, buf, cap);
}

/* ---- credentials --------------------------------------------------------------------- */

static bool set_creds(struct aws_creds *c, const char *id, const char *secret, const char *token)
{
    if (!id || !id[0] || !secret || !secret[0])
        return false;
    snprintf(c->access_key_id, sizeof c->access_key_id, "%s", id);
    snprintf(c->secret_access_key, sizeof c->secret_access_key, "%s", secret);
    snprintf(c->token, sizeof c->token, "%s", token ? token : "");
    return true;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, strlen(s + i) + 1);
}

/* ~/.aws/credentials (or AWS_SHARED_CREDENTIALS_FILE), profile AWS_PROFILE or "default". */
static bool from_shared_file(struct aws_creds *c)
{
    char path[1024], want[200];
    const char *f = getenv("AWS_SHARED_CREDENTIALS_FILE");
    const char *home = getenv("HOME");
    if (f && f[0])
        snprintf(path, sizeof path, "%s", f);
    else if (home && home[0])
        snprintf(path, sizeof path, "%s/.aws/credentials", home);
    else
        return false;
    const char *prof = getenv("AWS_PROFILE");
    snprintf(want, sizeof want, "%s", prof && prof[0] ? prof : "default");
    FILE *fp = fopen(path, "r");
    if (!fp)
        return false;
    bool ok = aws_creds_from_ini(fp, want, c);
    fclose(fp);
    return ok;
}

bool aws_creds_from_ini(FILE *fp, const char *want, struct aws_creds *c)
{
    char line[2300], id[256] = "", secret[256] = "", token[2100] = "";
    bool in = false;
    while (fgets(line, sizeof line, fp)) {
        trim(line);
        if (line[0] == '[') {
            char *end = strchr(line, ']');
            if (end)
                *end = '\0';
            char *name = line + 1;
            trim(name);
            in = strcmp(name, want) == 0;
            continue;
        }
        char *eq = strchr(line, '=');
        if (!in || !eq || line[0] == '#' || line[0] == ';')
            continue;
        *eq = '\0';
        char *k = line, *v = eq + 1;
        trim(k);
        trim(v);
        if (strcmp(k, "aws_access_key_id") == 0)
            snprintf(id, sizeof id, "%s", v);
        else if (strcmp(k, "aws_secret_access_key") == 0)
            snprintf(secret, sizeof secret, "%s", v);
        else if (strcmp(k, "aws_session_token") == 0)
            snprintf(token, sizeof token, "%s", v);
    }
    bool ok = set_creds(c, id, secret, token);
    memset(secret, 0, sizeof secret);
    memset(token, 0, sizeof token);
    memset(line, 0, sizeof line);
    return ok;
}

/* EC2 instance profile through IMDSv2 (a session token first, as AWS requires). */
static int from_imds(struct aws_creds *c, bool *found, struct err *e)
{
    char base[512], url[1024], tokhdr[300], role[256];
    const char *dis = getenv("AWS_EC2_METADATA_DISABLED");
    struct aws_reply r;
    *found = false;
    if (dis && strcasecmp(dis, "true") == 0)
        return 0;
    const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    snprintf(base, sizeof base, "%s", ep && ep[0] ? ep : "http://169.254.169.254");
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        base[--n] = '\0';
    static const char *const ttl[] = { "X-aws-ec2-metadata-token-ttl-seconds: 300", NULL };
    snprintf(url, sizeof url, "%s/latest/api/token", base);
    struct err he;
    if (aws_http("PUT", url, NULL, NULL, ttl, "", 2, &r, &he) < 0 || r.status != 200 || !r.body) {
        aws_reply_clear(&r);
        return 0;   /* no instance metadata service here */
    }
    snprintf(tokhdr, sizeof tokhdr, "X-aws-ec2-metadata-token: %.256s", r.body);
    aws_reply_clear(&r);
    const char *const hdr[] = { tokhdr, NULL };
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", base);
    if (aws_http("GET", url, NULL, NULL, hdr, NULL, 2, &r, &he) < 0 || r.status != 200 ||
        !r.body) {
        aws_reply_clear(&r);
        return 0;   /* no instance profile */
    }
    snprintf(role, sizeof role, "%s", r.body);
    role[strcspn(role, "\r\n")] = '\0';
    aws_reply_clear(&r);
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", base, role);
    if (aws_http("GET", url, NULL, NULL, hdr, NULL, 2, &r, e) < 0)
        return -1;
    int rc = aws_creds_from_imds_json(r.status == 200 ? r.body : NULL, c, found);
    aws_reply_clear(&r);
    if (rc < 0)
        return err_set(e, ERR_UPSTREAM, "instance profile %s: unreadable credentials", role);
    return 0;
}

int aws_creds_from_imds_json(const char *body, struct aws_creds *c, bool *found)
{
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    *found = false;
    if (!j)
        return -1;
    *found = set_creds(c, cJSON_GetStringValue(cJSON_GetObjectItem(j, "AccessKeyId")),
                       cJSON_GetStringValue(cJSON_GetObjectItem(j, "SecretAccessKey")),
                       cJSON_GetStringValue(cJSON_GetObjectItem(j, "Token")));
    cJSON_Delete(j);
    return 0;
}

bool aws_creds_from_sts(xmlDoc *d, struct aws_creds *c)
{
    static const char *const path[] = { "AssumeRoleResponse", "AssumeRoleResult", "Credentials",
                                        NULL };
    xmlNode *cr = aws_xml_path(d, path);
    char id[256], secret[256], token[2100];
    aws_xml_text(aws_xml_child(cr, "AccessKeyId"), id, sizeof id);
    aws_xml_text(aws_xml_child(cr, "SecretAccessKey"), secret, sizeof secret);
    aws_xml_text(aws_xml_child(cr, "SessionToken"), token, sizeof token);
    bool ok = set_creds(c, id, secret, token);
    memset(secret, 0, sizeof secret);
    memset(token, 0, sizeof token);
    return ok;
}

static int assume_role(struct aws_creds *c, const char *region, const char *arn,
                       const char *external_id, struct err *e)
{
    char ep[512], dflt[200], body[3000], earn[1200], eext[1200], sig[200];
    snprintf(dflt, sizeof dflt, "https://sts.%s.amazonaws.com", region);
    aws_endpoint("STS", dflt, ep, sizeof ep);
    dns_url_escape(arn, earn, sizeof earn);
    dns_url_escape(external_id, eext, sizeof eext);
    snprintf(body, sizeof body, "Action=AssumeRole&Version=2011-06-15&RoleArn=%s"
             "&RoleSessionName=vault-pki-external-ca&DurationSeconds=900%s%s", earn,
             external_id[0] ? "&ExternalId=" : "", eext);
    snprintf(sig, sizeof sig, "aws:amz:%s:sts", region);
    static const char *const hdr[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL
    };
    struct aws_reply r;
    char url[600];
    snprintf(url, sizeof url, "%s/", ep);
    if (aws_http("POST", url, sig, c, hdr, body, 15, &r, e) < 0)
        return err_wrap(e, "STS AssumeRole %.200s", arn);
    if (r.status != 200) {
        char what[400];
        snprintf(what, sizeof what, "STS AssumeRole %.200s (assume_role_arn, external_id)", arn);
        int rc = aws_error(what, &r, e);
        aws_reply_clear(&r);
        return rc;
    }
    xmlDoc *d = aws_xml_parse(&r);
    aws_reply_clear(&r);
    bool ok = aws_creds_from_sts(d, c);
    xmlFreeDoc(d);
    if (!ok)
        return err_set(e, ERR_UPSTREAM, "STS AssumeRole %.200s: no credentials in the reply",
                       arn);
    return 0;
}

int aws_credentials(const cJSON *cfg, struct aws_creds *c, struct err *e)
{
    memset(c, 0, sizeof *c);
    const char *id = dns_cfg_str(cfg, "access_key_id");
    const char *secret = dns_cfg_str(cfg, "secret_access_key");
    bool found = set_creds(c, id, secret, NULL) ||
                 set_creds(c, getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
                           getenv("AWS_SESSION_TOKEN")) ||
                 from_shared_file(c);
    if (!found && from_imds(c, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_UPSTREAM, "no AWS credentials: set access_key_id and "
                       "secret_access_key, or provide them through the environment "
                       "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the shared credentials "
                       "file or an instance profile");
    const char *arn = dns_cfg_str(cfg, "assume_role_arn");
    if (arn[0]) {
        const char *region = dns_cfg_str(cfg, "region")[0] ? dns_cfg_str(cfg, "region")
                                                            : "us-east-1";
        if (assume_role(c, region, arn, dns_cfg_str(cfg, "external_id"), e) < 0) {
            aws_creds_wipe(c);
            return -1;
        }
    }
    return 0;
}
