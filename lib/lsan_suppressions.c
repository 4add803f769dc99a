/* LeakSanitizer's built-in suppressions for the jpki and jpkid binaries
 * (linked into the executables only; used only in the sanitizer build).
 *
 * Two libraries leak a few kilobytes that are not ours: cairo 1.16 while
 * subsetting fonts in cairo_surface_finish, and fontconfig 2.14 while
 * loading its configuration (unit.letter names the functions; it runs
 * with the slow unwinder). Here the fast unwinder stops inside the
 * library (no frame pointers there), so the module is what can be
 * matched: an allocation made directly by libcairo or libfontconfig is
 * not reported. Everything we allocate is still checked. LSAN_OPTIONS
 * can add more. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libcairo.so\nleak:libfontconfig.so\n";
}
