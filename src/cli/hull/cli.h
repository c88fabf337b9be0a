/* The hull command line: global options, and one entry point per subcommand. */
#pragma once
#include <stdbool.h>

struct global_opts {
	const char *root;	     /* --root; default /run/hull */
	const char *log;	     /* --log */
	const char *log_format;	     /* --log-format text|json */
	bool debug;		     /* --debug */
	bool systemd_cgroup;	     /* --systemd-cgroup */
	bool rootless_set, rootless; /* --rootless true|false */
};

/*
 * Each subcommand gets argv starting at its own name (argv[0] = "spec") and
 * returns the process exit status. Errors are reported with log_error() from
 * herr_msg() before returning 1.
 */
int cmd_create(int argc, char **argv, struct global_opts *g);
int cmd_start(int argc, char **argv, struct global_opts *g);
int cmd_run(int argc, char **argv, struct global_opts *g);
int cmd_state(int argc, char **argv, struct global_opts *g);
int cmd_kill(int argc, char **argv, struct global_opts *g);
int cmd_delete(int argc, char **argv, struct global_opts *g);
int cmd_list(int argc, char **argv, struct global_opts *g);
int cmd_spec(int argc, char **argv, struct global_opts *g);
int cmd_features(int argc, char **argv, struct global_opts *g);
int cmd_pause(int argc, char **argv, struct global_opts *g);
int cmd_resume(int argc, char **argv, struct global_opts *g);
int cmd_ps(int argc, char **argv, struct global_opts *g);
int cmd_events(int argc, char **argv, struct global_opts *g);
int cmd_update(int argc, char **argv, struct global_opts *g);
int cmd_exec(int argc, char **argv, struct global_opts *g);

/* args.c: the error of the last library call (returns 1), a bad flag, the id argument. */
int cli_fail(void);
int cli_bad_flag(const char *cmd, char **argv);
const char *cli_need_id(int argc, char **argv, const char *cmd, const char *usage);
