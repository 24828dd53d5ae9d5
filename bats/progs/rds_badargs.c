/* SPDX-License-Identifier: MIT */
/*
 * rds_badargs ADDR
 *
 * Bad arguments get the kernel's errno, never a crash: NULL pointers where the kernel would
 * fault copying (EFAULT), too many iovecs (EMSGSIZE), a length that wraps, and so on.
 * Output: one "ok NAME" or "FAIL NAME: got ..., want ..." line per case, then a total;
 * exits 1 if any case failed.
 */
#include "rds_common.h"

#include <linux/rds.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

static int failed;

static void expect(const char *name, long ret, int want_errno)
{
	int e = errno;

	if ((want_errno == 0 && ret >= 0) || (want_errno && ret < 0 && e == want_errno)) {
		printf("ok %s\n", name);
		return;
	}
	printf("FAIL %s: got %ld (%s), want %s\n", name, ret, ret < 0 ? strerror(e) : "success",
	       want_errno ? strerror(want_errno) : "success");
	failed++;
}

#define EXPECT(call, want)                                                                         \
	do {                                                                                       \
		errno = 0;                                                                         \
		expect(#call, (long)(call), want);                                                 \
	} while (0)

int main(int argc, char **argv)
{
	rds_sa a;
	struct msghdr m = { 0 };
	struct iovec iov = { NULL, 100 };
	socklen_t len = 16;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: %s ADDR\n", argv[0]);
		return 2;
	}
	alarm(20);
	a = make_addr(argv[1], 4000);
	fd = socket(AF_RDS, SOCK_SEQPACKET, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	EXPECT(sendmsg(fd, NULL, 0), EFAULT);
	EXPECT(recvmsg(fd, NULL, MSG_DONTWAIT), EFAULT);
	EXPECT(bind(fd, NULL, 16), EFAULT);
	EXPECT(connect(fd, NULL, 16), EFAULT);
	EXPECT(getsockname(fd, NULL, NULL), EFAULT);
	EXPECT(getsockname(fd, NULL, &len), EFAULT);
	EXPECT(getpeername(fd, NULL, NULL), EFAULT);
	EXPECT(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, NULL, 4), EFAULT);
	EXPECT(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, NULL, NULL), EFAULT);
	EXPECT(getsockopt(fd, SOL_RDS, RDS_INFO_COUNTERS, NULL, NULL), EFAULT);
	EXPECT(ioctl(fd, SIOCRDSGETTOS, NULL), EFAULT);
	EXPECT(setsockopt(fd, SOL_RDS, RDS_CANCEL_SENT_TO, NULL, 16), EFAULT);
	EXPECT(bind(fd, &a.sa, sa_len(&a)), 0);
	EXPECT(sendmsg(fd, &m, 0), ENOTCONN); /* no name, not connected */
	m.msg_name = &a;
	m.msg_namelen = sizeof(a);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	EXPECT(sendmsg(fd, &m, 0), EFAULT); /* iov_base NULL, iov_len 100 */
	m.msg_iovlen = 100000;
	EXPECT(sendmsg(fd, &m, 0), EMSGSIZE); /* more than UIO_MAXIOV */
	m.msg_iov = NULL;
	m.msg_iovlen = 1;
	EXPECT(sendmsg(fd, &m, 0), EFAULT);
	EXPECT(sendto(fd, NULL, 5, 0, &a.sa, sa_len(&a)), EFAULT);
	EXPECT(recv(fd, NULL, 100, MSG_DONTWAIT), EFAULT);
	EXPECT(sendto(fd, "x", 1, 0, &a.sa, sa_len(&a)), 0); /* still works */
	printf("%d failed\n", failed);
	return failed ? 1 : 0;
}
