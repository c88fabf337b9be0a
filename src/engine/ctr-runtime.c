/* Runtime operations for deck's containers: in process, or a runtime binary. */
#include "engine/ctr-runtime.h"
#include "engine/container.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strv.h"
#include "runtime/container.h"
#include "runtime/control.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Run `RUNTIME --root RTROOT ARGS...`; its stdout into *out when out is given.
 * A failure carries the runtime's stderr as the message.
 */
static int run_binary(const char *root, const struct ctr_record *r, const char *const *args,
		      char **out)
{
	char rtroot[PATH_MAX];
	ctr_runtime_root(root, rtroot, sizeof(rtroot));
	_cleanup_strv_ char **argv = NULL;
	bool ok = strv_push(&argv, r->config.runtime) == 0 && strv_push(&argv, "--root") == 0 &&
		  strv_push(&argv, rtroot) == 0;
	for (size_t i = 0; ok && args[i]; i++)
		ok = strv_push(&argv, args[i]) == 0;
	if (!ok)
		return herr_set(ENOMEM, "out of memory");
	int op[2] = {-1, -1}, ep[2];
	if ((out && pipe2(op, O_CLOEXEC) < 0) || pipe2(ep, O_CLOEXEC) < 0)
		return herr_sys("pipe");
	pid_t pid = fork();
	if (pid < 0)
		return herr_sys("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(out ? op[1] : null, 1);
		dup2(ep[1], 2);
		execv(argv[0], argv);
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(ep[1]);
	if (out)
		close(op[1]);
	char err[2048];
	size_t elen = 0;
	char *obuf = NULL;
	size_t olen = 0;
	ssize_t n;
	if (out) {
		char buf[4096];
		while ((n = read(op[0], buf, sizeof(buf))) > 0) {
			char *nb = realloc(obuf, olen + (size_t)n + 1);
			if (!nb)
				break;
			obuf = nb;
			memcpy(obuf + olen, buf, (size_t)n);
			olen += (size_t)n;
			obuf[olen] = 0;
		}
		close(op[0]);
	}
	while ((n = read(ep[0], err + elen, sizeof(err) - 1 - elen)) > 0)
		elen += (size_t)n;
	close(ep[0]);
	err[elen] = 0;
	while (elen && (err[elen - 1] == '\n' || err[elen - 1] == ' '))
		err[--elen] = 0;
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		free(obuf);
		return herr_set(EIO, "%s %s: %s", r->config.runtime, args[0],
				elen ? err : "failed");
	}
	if (out)
		*out = obuf ? obuf : strdup("");
	return 0;
}

int ctr_rt_kill(const char *root, const struct ctr_record *r, int sig, bool all)
{
	char rtroot[PATH_MAX], s[16];
	if (!r->config.runtime)
		return container_kill(ctr_runtime_root(root, rtroot, sizeof(rtroot)), r->id, sig,
				      all);
	snprintf(s, sizeof(s), "%d", sig);
	const char *args[] = {"kill", all ? "--all" : r->id, all ? r->id : s, all ? s : NULL, NULL};
	return run_binary(root, r, args, NULL);
}

int ctr_rt_pause(const char *root, const struct ctr_record *r, bool pause)
{
	char rtroot[PATH_MAX];
	ctr_runtime_root(root, rtroot, sizeof(rtroot));
	if (!r->config.runtime)
		return pause ? container_pause(rtroot, r->id) : container_resume(rtroot, r->id);
	const char *args[] = {pause ? "pause" : "resume", r->id, NULL};
	return run_binary(root, r, args, NULL);
}

int ctr_rt_delete(const char *root, const struct ctr_record *r, bool force)
{
	char rtroot[PATH_MAX], dir[PATH_MAX + 80];
	ctr_runtime_root(root, rtroot, sizeof(rtroot));
	/* hull, runc and crun all keep a container's state in ROOT/ID: without it there is
	 * nothing to delete, and no runtime binary to start on every start and cleanup */
	snprintf(dir, sizeof(dir), "%s/%s", rtroot, r->id);
	if (access(dir, F_OK) < 0)
		return 0;
	if (!r->config.runtime)
		return container_delete(rtroot, r->id, force);
	const char *args[] = {"delete", force ? "--force" : r->id, force ? r->id : NULL, NULL};
	return run_binary(root, r, args, NULL);
}

int ctr_rt_ps(const char *root, const struct ctr_record *r, pid_t **pids, size_t *n)
{
	char rtroot[PATH_MAX];
	if (!r->config.runtime)
		return container_ps(ctr_runtime_root(root, rtroot, sizeof(rtroot)), r->id, pids, n);
	_cleanup_free_ char *out = NULL;
	const char *args[] = {"ps", "--format", "json", r->id, NULL};
	int rc = run_binary(root, r, args, &out);
	if (rc < 0)
		return rc;
	json_object *a = json_tokener_parse(out);
	if (!a || !json_object_is_type(a, json_type_array)) {
		json_object_put(a);
		return herr_set(EINVAL, "%s ps: not a JSON array of pids", r->config.runtime);
	}
	size_t cnt = json_object_array_length(a);
	*pids = calloc(cnt ? cnt : 1, sizeof(**pids));
	if (!*pids) {
		json_object_put(a);
		return herr_set(ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < cnt; i++)
		(*pids)[i] = (pid_t)json_object_get_int(json_object_array_get_idx(a, i));
	*n = cnt;
	json_object_put(a);
	return 0;
}
