// SPDX-License-Identifier: MIT
/*
 * mprdsd: one RDS engine for every process of a network namespace (DESIGN.md, "RDS is a
 * host-wide service"). This first step hosts the engine, answers the rendezvous of its
 * instance (rendezvous.h), admits clients by SO_PEERCRED, serves their socket calls
 * (client.c, serve.c) and leaves when it has been idle; `mprdsd --ensure` is the client side
 * that finds or starts it.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "daemon.h"
#include "mprds/allow.h"
#include "mprds/clock.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/log.h"
#include "mprds/port_owner.h"
#include "mprds/tcp_listen.h"
#include "rendezvous.h"
#include "serve.h"

#define IDLE_EXIT_S 10 /* MPRDS_IDLE_EXIT: no client, no connection this long: exit */
#define CLIENT_SOCKETS 4096 /* MPRDS_CLIENT_SOCKETS: the sockets one client may hold */
#define CLIENT_MIB 64 /* MPRDS_CLIENT_MIB: what one client's sockets may hold queued */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void daemon_signals(void)
{
	/* no SA_RESTART: a stop ends the poll at once */
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_stop_signal }, NULL);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_stop_signal }, NULL);
}

/*
 * A daemon started by a user serves that user; one started as root, or with --system (the
 * host's daemon run by a service manager under a user of its own), serves everyone, as the
 * kernel's RDS does.
 */
static bool client_allowed(const struct daemon *d, const struct ucred *cred)
{
	return d->system || geteuid() == 0 || cred->uid == geteuid();
}

static uint64_t new_token(void)
{
	uint64_t t = 0;

	while (!t && getrandom(&t, sizeof(t), 0) != sizeof(t))
		;
	return t;
}

static struct client *client_by_token(void *arg, uint64_t token)
{
	struct daemon *d = arg;

	for (unsigned i = 1; i <= d->nclients; i++)
		if (d->clients[i]->token == token)
			return d->clients[i];
	return NULL;
}

void daemon_ctx_init(struct daemon *d, const char *instance, unsigned max_sockets,
		     size_t max_bytes)
{
	d->ctx = (struct serve_ctx){ d->eng, instance, max_sockets, max_bytes, client_by_token, d };
}

static void admit(struct daemon *d, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c = NULL;
	const char *why = "too many clients";

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		why = "no credentials";
	else if (!client_allowed(d, &cred))
		why = "another user's daemon (start your own with another MPRDS_INSTANCE, or "
		      "run mprdsd as root or with --system)";
	else if (d->nclients < MAX_CLIENTS)
		c = client_new(fd, cred.uid, cred.pid, new_token());
	if (!c) {
		log_warn("mprdsd: client refused: %s", why);
		close(fd);
		return;
	}
	daemon_add_client(d, c);
}

void daemon_add_client(struct daemon *d, struct client *c)
{
	d->nclients++;
	d->clients[d->nclients] = c;
	d->fds[d->nclients] = (struct pollfd){ .fd = c->fd,
					       .events = client_has_output(c) ? POLLOUT : POLLIN };
}

static void accept_clients(struct daemon *d)
{
	int fd;

	while ((fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0)
		admit(d, fd);
}

static void drop_client(struct daemon *d, unsigned i)
{
	client_free(d->clients[i]);
	d->clients[i] = d->clients[d->nclients];
	d->fds[i] = d->fds[d->nclients];
	d->nclients--;
}

/* Client i's turn: read and serve, or write its reply; false to drop it. */
static bool serve_client(struct daemon *d, unsigned i)
{
	struct client *c = d->clients[i];
	short ev = d->fds[i].revents;
	bool ok = true;

	if (ev & (POLLERR | POLLNVAL))
		return false;
	if ((ev & (POLLIN | POLLHUP)) && !client_has_output(c))
		ok = client_read(c, &d->ctx, d->nclients, d->eng->cfg.gen_num);
	if (ok && c->handover) {
		daemon_hand_over(d, i); /* returns only if the new binary did not take over */
		return false;
	}
	if (ok && client_has_output(c))
		ok = client_write(c);
	d->fds[i].events = client_has_output(c) ? POLLOUT : POLLIN;
	return ok;
}

static bool engine_idle(struct daemon *d)
{
	bool idle;

	/*
	 * Connections without a queued message do not keep it: with no socket left nothing
	 * can use them, and a peer sees the next daemon's new GEN_NUM as a restart.
	 */
	engine_lock(d->eng);
	idle = conn_all_idle(d->eng);
	engine_unlock(d->eng);
	return idle;
}

/*
 * True when the daemon has had no client, socket or queued message for idle_exit. Messages
 * that a peer never acknowledges keep it only MPRDS_LINGER_MS longer, as they keep an
 * in-process engine at exit: a dead peer must not keep a daemon for ever.
 */
static bool idle_long_enough(struct daemon *d)
{
	double now = clock_now(), linger = d->eng->cfg.linger_ms / 1000.0;

	if (d->idle_exit <= 0 || d->nclients || sockets_count()) {
		d->idle_since = -1;
		return false;
	}
	if (d->idle_since < 0)
		d->idle_since = now;
	if (now - d->idle_since < d->idle_exit)
		return false;
	if (engine_idle(d))
		return true;
	if (now - d->idle_since < d->idle_exit + linger)
		return false;
	log_warn("mprdsd %d: no client for %.1f s; dropping messages no peer acknowledged",
		 (int)getpid(), now - d->idle_since);
	return true;
}

void daemon_serve(struct daemon *d)
{
	d->fds[0] = (struct pollfd){ .fd = d->listen_fd, .events = POLLIN };
	d->idle_since = -1;
	while (!stop_requested && !idle_long_enough(d)) {
		if (poll(d->fds, 1 + d->nclients, 200) < 0 && errno != EINTR)
			break;
		sockets_expire_passing(clock_now());
		if (d->fds[0].revents & POLLIN)
			accept_clients(d);
		for (unsigned i = d->nclients; i >= 1; i--)
			if (d->fds[i].revents && !serve_client(d, i))
				drop_client(d, i);
	}
	while (d->nclients)
		drop_client(d, d->nclients);
}

static unsigned env_count(const char *name, unsigned dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n = v ? strtoul(v, &end, 10) : 0;

	if (!v || !*v)
		return dflt;
	if (*end || !n || n > SOCKETS_MAX) {
		log_warn("%s=%s is not a count from 1 to %u: using %u", name, v, SOCKETS_MAX, dflt);
		return dflt;
	}
	return (unsigned)n;
}

static bool is_default(const char *instance)
{
	return !instance || !*instance || !strcmp(instance, RENDEZVOUS_DEFAULT);
}

/*
 * The default instance is the host's RDS, as the kernel's: it listens on every address and
 * answers pings on addresses no socket is bound to. A named one listens only on the
 * addresses its clients bind (one machine playing several hosts).
 */
static void listen_everywhere(struct engine *e)
{
	struct addr any = { 0 };
	char holder[128] = "";
	enum port_owner_kind kind;
	int err;

	engine_lock(e);
	err = listen_any(e);
	engine_unlock(e);
	kind = err == -EADDRINUSE ? port_owner(&any, e->cfg.tcp_port, holder, sizeof(holder)) :
				    PORT_OWNER_UNKNOWN;
	if (err == -EADDRINUSE && kind == PORT_OWNER_MPRDS)
		log_error("mprdsd: cannot listen on *:%u and [::]:%u: held by %s, another mprds "
			  "engine; run this one with MPRDS_INSTANCE=name, or MPRDS_TCP_PORT",
			  e->cfg.tcp_port, e->cfg.tcp_port, holder);
	else if (err == -EADDRINUSE)
		log_error("mprdsd: cannot listen on *:%u and [::]:%u: held by %s%s; set "
			  "MPRDS_TCP_PORT to run beside it, or MPRDS_INSTANCE=name",
			  e->cfg.tcp_port, e->cfg.tcp_port, holder,
			  kind == PORT_OWNER_OTHER ? ", which is not mprds" : "");
	else if (err)
		log_error("mprdsd: cannot listen on *:%u and [::]:%u: %s", e->cfg.tcp_port,
			  e->cfg.tcp_port, strerror(-err));
}

/*
 * Another daemon holds the instance's name. Started by a client, that is a race the other
 * won: it serves. The host's daemon (--system) fails instead, so that its service manager
 * says so and tries again once a user's own daemon has gone idle.
 */
static int served_already(const char *instance, bool system)
{
	if (!system) {
		log_debug("mprdsd: instance %s is served already", instance ? instance : "default");
		return 0;
	}
	log_error("mprdsd: instance %s is served by another mprdsd already (one a user's "
		  "process started?): its clients are not this one's",
		  instance ? instance : RENDEZVOUS_DEFAULT);
	return 1;
}

static int run_daemon(const char *instance, double idle_exit, bool system)
{
	struct daemon d = { .idle_exit = idle_exit, .system = system };
	struct config cfg;
	int err;

	d.listen_fd = rendezvous_listen(instance);
	if (d.listen_fd == -EADDRINUSE)
		return served_already(instance, system);
	if (d.listen_fd < 0) {
		log_error("mprdsd: cannot listen: %s", strerror(-d.listen_fd));
		return 1;
	}
	engine_config_from_env(&cfg);
	cfg.never_block = true;
	d.eng = engine_new(&cfg);
	err = d.eng ? engine_start(d.eng) : -ENOMEM;
	if (err) {
		log_error("mprdsd: cannot start the engine: %s", strerror(-err));
		return 1;
	}
	if (is_default(instance))
		listen_everywhere(d.eng);
	daemon_ctx_init(&d, instance, env_count("MPRDS_CLIENT_SOCKETS", CLIENT_SOCKETS),
			(size_t)env_count("MPRDS_CLIENT_MIB", CLIENT_MIB) << 20);
	log_info("mprdsd %d: serving instance %s%s", (int)getpid(),
		 instance ? instance : RENDEZVOUS_DEFAULT, system ? " for every user" : "");
	daemon_serve(&d);
	close(d.listen_fd);
	engine_free(d.eng);
	log_info("mprdsd %d: %s", (int)getpid(), stop_requested ? "stopped" : "idle: exiting");
	return 0;
}

static int run_ensure(const char *instance, const char *self)
{
	struct rendezvous_welcome w;
	int fd = rendezvous_ensure(instance, self, &w);

	if (fd < 0) {
		fprintf(stderr, "mprdsd: no daemon for instance %s: %s\n",
			instance ? instance : RENDEZVOUS_DEFAULT, strerror(-fd));
		return 1;
	}
	printf("pid %d gen %08x clients %u\n", w.pid, w.gen_num, w.clients);
	close(fd);
	return 0;
}

#define USAGE \
	"Usage: mprdsd [--instance NAME] [--idle-exit SECS] [--allow CIDR,...] [--system] [--ensure]\n" \
	"       mprdsd [--instance NAME] --upgrade\n"

static void help(void)
{
	printf(USAGE
	       "\n"
	       "The host-wide RDS engine of this network namespace (one per instance).\n"
	       "  -i, --instance NAME  serve instance NAME (MPRDS_INSTANCE; default: default)\n"
	       "  -t, --idle-exit SECS exit after SECS without clients or connections\n"
	       "                       (MPRDS_IDLE_EXIT, default 10; 0: never)\n"
	       "  -a, --allow LIST     accept RDS/TCP connections only from these networks\n"
	       "                       (MPRDS_ALLOW; CIDR list, e.g. 198.18.0.0/15,fe80::/10)\n"
	       "  -s, --system         the host's daemon: serve every user's processes, as\n"
	       "                       root's daemon does, whatever user this one runs as\n"
	       "                       (mprdsd.service); fail if the instance is served already\n"
	       "  -e, --ensure         as a client: find the daemon or start it, print its pid\n"
	       "  -u, --upgrade        take over the running daemon of the instance with this\n"
	       "                       binary: its connections, sockets and clients go on\n"
	       "                       without a break (the old one exits; if the hand-over\n"
	       "                       fails, it goes on serving and this says why)\n"
	       "  -h, --help           show this help\n"
	       "  -V, --version        show the version\n");
}

/* A usage error: what was wrong (if getopt has not said it), the usage line; status 2. */
static int usage_error(const char *fmt, const char *arg)
{
	if (fmt) {
		fprintf(stderr, "mprdsd: ");
		fprintf(stderr, fmt, arg);
		fputc('\n', stderr);
	}
	fprintf(stderr, USAGE "Try 'mprdsd --help'.\n");
	return 2;
}

/* Seconds, 0 or more (0: never): false for anything else. */
static bool parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	v = strtod(s, &end);
	if (*end || !(v >= 0) || v > 1e9)
		return false;
	*out = v;
	return true;
}

/* MPRDS_IDLE_EXIT: a bad value is said and the default used. */
static double env_idle_exit(void)
{
	const char *v = getenv("MPRDS_IDLE_EXIT");
	double secs;

	if (!v || !*v)
		return IDLE_EXIT_S;
	if (parse_seconds(v, &secs))
		return secs;
	log_warn("MPRDS_IDLE_EXIT=%s is not a number of seconds, 0 or more: using %d", v,
		 IDLE_EXIT_S);
	return IDLE_EXIT_S;
}

struct options {
	const char *instance;
	const char *instance_from; /* "--instance " or "MPRDS_INSTANCE=": for the error */
	const char *idle_exit; /* --idle-exit, or NULL: MPRDS_IDLE_EXIT */
	bool ensure, system, upgrade;
};

/*
 * --allow: the engine reads the list from MPRDS_ALLOW (engine_config_from_env); checked here
 * first, so that a daemon asked to keep peers out does not start with a list it cannot read.
 */
static bool allow_option(const char *list)
{
	struct allow_list l;
	char bad[64];

	if (allow_parse(list, &l, bad, sizeof(bad)) < 0) {
		fprintf(stderr, "mprdsd: --allow: '%s' is not an address or network (CIDR)\n", bad);
		return false;
	}
	return setenv("MPRDS_ALLOW", list, 1) == 0;
}

/* -1 to go on, else the exit status (help, version, a bad option). */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = { { "instance", required_argument, NULL, 'i' },
					      { "idle-exit", required_argument, NULL, 't' },
					      { "allow", required_argument, NULL, 'a' },
					      { "ensure", no_argument, NULL, 'e' },
					      { "system", no_argument, NULL, 's' },
					      { "upgrade", no_argument, NULL, 'u' },
					      { "help", no_argument, NULL, 'h' },
					      { "version", no_argument, NULL, 'V' },
					      { NULL, 0, NULL, 0 } };
	double secs;
	int c;

	while ((c = getopt_long(argc, argv, "i:t:a:seuhV", opts, NULL)) != -1) {
		if (c == 'a') {
			if (!allow_option(optarg))
				return usage_error(NULL, NULL); /* allow_option said what */
		} else if (c == 'i') {
			o->instance = optarg;
			o->instance_from = "--instance ";
		} else if (c == 't') {
			if (!parse_seconds(optarg, &secs))
				return usage_error("--idle-exit %s: want seconds, 0 or more",
						   optarg);
			o->idle_exit = optarg;
		} else if (c == 'e') {
			o->ensure = true;
		} else if (c == 's') {
			o->system = true;
		} else if (c == 'u') {
			o->upgrade = true;
		} else if (c == 'h') {
			help();
			return 0;
		} else if (c == 'V') {
			printf("mprdsd " MPRDS_VERSION "\n");
			return 0;
		} else {
			return usage_error(NULL, NULL); /* getopt said what */
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!rendezvous_instance_ok(o->instance)) {
		fprintf(stderr, "mprdsd: %s%s: instance names are 1 to 32 of [A-Za-z0-9_.-]\n",
			o->instance_from, o->instance);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct options o = { getenv("MPRDS_INSTANCE"), "MPRDS_INSTANCE=", NULL, false, false, false };
	int status = parse_options(argc, argv, &o);

	if (status >= 0)
		return status;
	log_init();
	if (o.ensure)
		return run_ensure(o.instance, "/proc/self/exe");
	if (o.upgrade)
		return daemon_upgrade(o.instance);
	signal(SIGPIPE, SIG_IGN);
	daemon_signals();
	return run_daemon(o.instance, o.idle_exit ? atof(o.idle_exit) : env_idle_exit(), o.system);
}
