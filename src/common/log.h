/*
 * Runtime log: where runc's --log/--log-format/--debug send messages. containerd
 * and podman read errors from a JSON log file ({"level":"error","msg":...,"time":...}),
 * so the error that ends a command goes to the log as well as to stderr.
 */
#pragma once
#include <stdbool.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/* path NULL = stderr only; format "text" or "json" (NULL = text). */
int log_init(const char *path, const char *format, bool debug);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
/* The fatal error of a command: to stderr ("hull: msg") and to the log file. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool log_debug_enabled(void);
/* The log fd (or -1), so a child that is about to exec can close it. */
int log_fd(void);
