// SPDX-License-Identifier: GPL-2.0
/* rtconst_lib: the exported variable of a boot-time constant, defined in
 * another file than its users, like USER_PTR_MAX. */
unsigned long rtc_user_max = 0x7ffffffff000UL;
