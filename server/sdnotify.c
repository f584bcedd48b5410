/*
 * sdnotify.c - see sdnotify.h.  The protocol: a datagram of "KEY=value" lines
 * sent to $NOTIFY_SOCKET, a path or, when it starts with '@', a name in the
 * abstract namespace.  systemd reads the sender's credentials from the socket,
 * so the message must come from the main process (NotifyAccess=main).
 */
#include "sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

bool sdnotify_enabled(void)
{
	const char *path = getenv("NOTIFY_SOCKET");

	return path != NULL && (path[0] == '/' || path[0] == '@') && path[1] != '\0';
}

bool sdnotify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len, n = strlen(state);
	ssize_t sent;
	int fd, e;

	errno = 0;
	if (!sdnotify_enabled())
		return false;
	len = strlen(path);
	if (len >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return false;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: the length below bounds the name */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	sent = sendto(fd, state, n, MSG_NOSIGNAL, (const struct sockaddr *)&sa,
	              (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	e = errno;
	close(fd);
	errno = e;
	return sent == (ssize_t)n;
}
