/*
 * banned.h - functions that invite overflows or hidden state.
 *
 * Every .c file includes this header last, after the system headers that
 * declare these functions (tools/lint.sh checks it), so a use of any of
 * them fails to compile.  Use snprintf, memcpy with a checked length, or
 * struct buf instead.
 */
#ifndef QVMR_BANNED_H
#define QVMR_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)

#endif
