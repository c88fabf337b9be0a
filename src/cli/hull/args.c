/* What every subcommand does with its arguments and its errors. */
#include "cli.h"
#include "common/error.h"
#include "common/log.h"

#include <getopt.h>

int cli_fail(void)
{
	log_error("%s", herr_msg());
	return 1;
}

int cli_bad_flag(const char *cmd, char **argv)
{
	log_error("%s: unknown or incomplete option \"%s\" (see hull %s --help)", cmd,
		  argv[optind - 1], cmd);
	return 1;
}

const char *cli_need_id(int argc, char **argv, const char *cmd, const char *usage)
{
	if (optind >= argc) {
		log_error("%s: missing container id (usage: hull %s %s)", cmd, cmd, usage);
		return NULL;
	}
	return argv[optind];
}
