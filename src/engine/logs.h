/*
 * Container logs: what deck-shim writes and `deck logs` reads. One record per
 * line, in podman's k8s-file format
 *     2026-11-26T14:00:00.123456789Z stdout F text
 * (F: the line ends here; P: a partial line that the next record continues) or
 * docker's json-file format
 *     {"log":"text\n","stream":"stdout","time":"2026-11-26T14:00:00.123456789Z"}
 * (a "log" without its trailing newline is partial). A log bigger than its
 * maximum size is renamed to PATH.1 (replacing the previous one) and restarted.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum logs_driver { LOGS_K8S_FILE, LOGS_JSON_FILE, LOGS_NONE };

/* "k8s-file", "json-file" or "none"; -EINVAL (recorded) for anything else. */
int logs_driver_parse(const char *s, enum logs_driver *d);
const char *logs_driver_name(enum logs_driver d);

struct logs_writer {
	int fd; /* -1 for LOGS_NONE */
	enum logs_driver driver;
	uint64_t max_size; /* 0: never rotate */
	uint64_t size;
	const char *path; /* borrowed */
};

/* Open (append to) the log at path; created with mode 0640. */
int logs_writer_open(struct logs_writer *w, const char *path, enum logs_driver d,
		     uint64_t max_size);
/*
 * Record what the container wrote on stream (1 stdout, 2 stderr), stamped with
 * the current time: one record per line, the unfinished tail as a partial one.
 */
int logs_writer_write(struct logs_writer *w, int stream, const char *buf, size_t len);
void logs_writer_close(struct logs_writer *w);

struct logs_read_opts {
	long tail;	       /* only the last N lines; -1: all */
	int64_t since;	       /* ns since the epoch: skip earlier records; 0: no limit */
	int64_t until;	       /* ns since the epoch: skip later records; 0: no limit */
	bool timestamps;       /* start each line with its time and a space, as docker logs -t */
	bool follow;	       /* wait for more output until the container has exited */
	const char *state_dir; /* follow: the shim's state dir, whose exit record ends it */
};

/*
 * Copy the log at path (PATH.1 first, when it exists) to out_fd (stdout
 * records) and err_fd (stderr records). With follow, waits for new records
 * (across rotations) until the container's exit is recorded in state_dir, or
 * its shim is gone, and what it wrote is drained; without a live shim in
 * state_dir there is nothing to wait for. Returns 0 or a negative errno.
 */
int logs_read(const char *path, enum logs_driver d, const struct logs_read_opts *o, int out_fd,
	      int err_fd);

/*
 * A point in time for --since/--until: RFC3339 ("2026-11-26T14:00:00Z", with
 * fractions and offsets, or just "2026-11-26"), unix seconds ("1700000000.5"),
 * or a duration before now_ns ("10m", "1h30m", "90s", "500ms").
 */
int logs_parse_time(const char *s, int64_t now_ns, int64_t *out_ns);

/* ts as "2026-11-26T14:00:00.123456789Z" into buf (at least 40 bytes). */
void logs_format_time(int64_t ns, char *buf, size_t len);
