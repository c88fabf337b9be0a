/*
 * `exec`: a new process in a running container. The container's config.json is
 * the base (env, user, capabilities, rlimits, seccomp, no_new_privs), the flags
 * (or a whole process.json) override it, as runc does.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct exec_opts {
	const char *root; /* state root */
	const char *id;
	const char *process_file; /* --process: the whole process; the flags below are ignored */
	char **args;		  /* the command (NULL-terminated) when no process_file */
	bool tty;		  /* --tty */
	const char *cwd;	  /* --cwd, or NULL */
	char **env;		  /* --env K=V..., appended (a key given again replaces it) */
	bool has_uid, has_gid;	  /* --user uid[:gid] */
	uint32_t uid, gid;
	uint32_t *additional_gids; /* --additional-gids, added to the config's */
	size_t n_additional_gids;
	char **caps;		   /* --cap names, added to bounding/effective/permitted */
	bool no_new_privs;	   /* --no-new-privs */
	const char *apparmor;	   /* --apparmor: refused, hull has no AppArmor support */
	const char *process_label; /* --process-label: refused, no SELinux support */
	const char *console_socket;
	bool detach;
	const char *pid_file;
	int preserve_fds;
	uint64_t inherited_fds; /* bit i: fd 3+i was open when hull started */
	bool ignore_paused;
};

/*
 * Run the process. In the foreground: forward signals, proxy the terminal (tty
 * without a console socket), wait, and set *exit_status (128+N when killed by
 * signal N). With detach: return once the process has been executed.
 */
int container_exec(const struct exec_opts *o, int *exit_status);
