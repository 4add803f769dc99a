/* Functions that must not be used in openjpki (after git's banned.h).
 *
 * Include this last, after every system header: it turns each call into a
 * compile error that names the reason. Use instead:
 *   strcpy, strcat, strncpy, strncat -> snprintf with a truncation check
 *   sprintf, vsprintf                -> snprintf, vsnprintf
 *   strtok                           -> strtok_r or an explicit scanner
 *   gmtime, localtime, ctime, asctime -> jpki_date / jpki_jst_day (no tz state)
 *   atoi, atol, atoll, atof          -> a checked parser with an explicit maximum
 */
#ifndef JPKI_BANNED_H
#define JPKI_BANNED_H

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
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef asctime
#define asctime(t) BANNED(asctime)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atoll
#define atoll(x) BANNED(atoll)
#undef atof
#define atof(x) BANNED(atof)

#endif
