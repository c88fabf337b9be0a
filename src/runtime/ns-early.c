/*
 * The init's network, IPC and UTS namespaces, made on the side while the
 * runtime reads its config.
 *
 * Creating a network namespace (the loopback device, the per-namespace tables of
 * every protocol, their sysctls) costs more than all the rest of clone3() with
 * the other namespaces: half a millisecond here, which the runtime used to
 * spend after parsing the config and making the cgroups, with the machine's
 * other cores idle. So as soon as the config's text mentions a network
 * namespace, a helper unshares those three; once the config is parsed, the
 * parent enters the ones it wants just for the clone3() of the init (which then
 * makes only the others), so the init is born in them, and goes back to its own.
 *
 * The helper is a clone sharing our memory and file table, which must not touch
 * anything of glibc's (errno included, which it would share with us): it makes
 * raw system calls only, and stays alive until the parent has entered its
 * namespaces through its pidfd.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define EARLY_NS (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

#if defined(__x86_64__)
static long raw_syscall(long n, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}
#define HAVE_RAW_SYSCALL 1
#elif defined(__aarch64__)
static long raw_syscall(long n, long a, long b, long c, long d)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
	return x0;
}
#define HAVE_RAW_SYSCALL 1
#endif

static struct {
	pid_t helper;
	int pidfd;
	volatile int ready;   /* the helper's answer: 1 done, -errno failed, 0 not yet */
	volatile int release; /* the parent's: the helper may exit */
} early = {.helper = -1, .pidfd = -1};

/* Let the helper go; it is reaped by ns_early_discard(), after the clone3(). */
static void release_helper(void)
{
	if (early.helper <= 0 || early.release)
		return;
	early.release = 1;
	syscall(SYS_futex, &early.release, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void reap_helper(void)
{
	if (early.helper <= 0)
		return;
	release_helper();
	while (waitpid(early.helper, NULL, 0) < 0 && errno == EINTR)
		;
	early.helper = -1;
	if (early.pidfd >= 0)
		close(early.pidfd);
	early.pidfd = -1;
}

#ifdef HAVE_RAW_SYSCALL
static int helper_main(void *arg)
{
	(void)arg;
	long r = raw_syscall(SYS_unshare, EARLY_NS, 0, 0, 0);
	early.ready = r == 0 ? 1 : (int)r;
	raw_syscall(SYS_futex, (long)&early.ready, FUTEX_WAKE, 1, 0);
	while (!early.release)
		raw_syscall(SYS_futex, (long)&early.release, FUTEX_WAIT, 0, 0);
	return 0;
}

void ns_early_start(void)
{
	static char stack[16384] __attribute__((aligned(16)));
	if (early.helper > 0)
		return;
	early.ready = early.release = 0;
	early.helper = clone(helper_main, stack + sizeof(stack),
			     CLONE_VM | CLONE_FILES | CLONE_PIDFD | SIGCHLD, NULL, &early.pidfd);
	if (early.helper <= 0)
		early.pidfd = -1;
}
#else
void ns_early_start(void)
{
}
#endif

unsigned long ns_early_enter(unsigned long flags, struct ns_early_saved *saved)
{
	static const struct {
		unsigned long flag;
		const char *path;
	} kinds[3] = {{CLONE_NEWNET, "/proc/thread-self/ns/net"},
		      {CLONE_NEWIPC, "/proc/thread-self/ns/ipc"},
		      {CLONE_NEWUTS, "/proc/thread-self/ns/uts"}};
	unsigned long which = flags & EARLY_NS;
	for (int i = 0; i < 3; i++)
		saved->fd[i] = -1;
	if (early.helper <= 0 || !which) {
		reap_helper();
		return 0;
	}
	/* Our own namespaces, to come back to: opened while the helper may still work. */
	bool ok = true;
	for (int i = 0; i < 3 && ok; i++)
		if (which & kinds[i].flag)
			ok = (saved->fd[i] = open(kinds[i].path, O_RDONLY | O_CLOEXEC)) >= 0;
	int ready;
	while (ok && !(ready = early.ready))
		syscall(SYS_futex, &early.ready, FUTEX_WAIT, 0, NULL, NULL, 0);
	ok = ok && ready > 0 && setns(early.pidfd, (int)which) == 0;
	release_helper();
	if (!ok) {
		ns_early_leave(saved); /* nothing entered: this only closes */
		return 0;
	}
	return which;
}

int ns_early_leave(struct ns_early_saved *saved)
{
	static const int types[3] = {CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS};
	int r = 0;
	for (int i = 0; i < 3; i++) {
		if (saved->fd[i] < 0)
			continue;
		if (setns(saved->fd[i], types[i]) < 0 && r == 0)
			r = -errno;
		close(saved->fd[i]);
		saved->fd[i] = -1;
	}
	return r;
}

bool ns_early_pending(void)
{
	return early.helper > 0 && !early.release;
}

void ns_early_discard(void)
{
	reap_helper();
}
