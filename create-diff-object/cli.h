/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - the long options that create-diff-object and klp-loadcheck share,
 * so that both spell them, and the letters their getopt strings use, alike.
 */
#ifndef KBP_CLI_H
#define KBP_CLI_H

#include <getopt.h>

/* The kernel's symbols: a symbol file (kbp_symbols_load), Module.symvers. */
#define KBP_OPTIONS_SYMBOL_SOURCES \
	{ "symbols", required_argument, NULL, 's' }, \
	{ "symvers", required_argument, NULL, 'e' }

/* Last in every table: --debug, --help and the terminator. */
#define KBP_OPTIONS_END \
	{ "debug", no_argument, NULL, 'd' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ NULL, 0, NULL, 0 }

#endif
