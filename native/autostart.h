/* keyrack-fast's start of a daemon for hooked shells (autostart.c). */
#ifndef KR_AUTOSTART_H
#define KR_AUTOSTART_H

/* Starts `NODE SCRIPT daemon start` detached, at most once a minute per socket. */
void kr_autostart(const char *node, const char *script, const char *socket_path);

#endif
