/* sockdir.c: the listening socket lives in a fresh 0700 directory, so no other local user
 * can connect to it or race its creation; both are removed at exit. */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sockdir_create(struct sockdir *sd, struct err *e)
{
    const char *base = getenv("PLUGIN_UNIX_SOCKET_DIR");
    if (!base || !*base)
        base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    /* "<base>/vplugin-XXXXXX/plugin.sock" must fit in sun_path (108 bytes). */
    int n = snprintf(sd->dir, sizeof sd->dir, "%s/vplugin-XXXXXX", base);
    if (n < 0 || (size_t)n + sizeof "/plugin.sock" > sizeof sd->path)
        return err_set(e, ERR_INTERNAL, "socket directory %s: path too long", base);
    if (!mkdtemp(sd->dir))
        return err_set(e, ERR_INTERNAL, "socket directory in %s: mkdtemp failed", base);
    chmod(sd->dir, 0700);
    snprintf(sd->path, sizeof sd->path, "%s/plugin.sock", sd->dir);
    return 0;
}

void sockdir_remove(struct sockdir *sd)
{
    if (sd->path[0])
        unlink(sd->path);
    if (sd->dir[0])
        rmdir(sd->dir);
    sd->path[0] = sd->dir[0] = '\0';
}
