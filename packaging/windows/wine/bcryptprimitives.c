/*
 * Test-only stand-in for bcryptprimitives.dll, used by packaging/verify.sh
 * inside its throw-away wine prefix. It is NOT shipped to users: every
 * Windows 10/11 has the real DLL.
 *
 * Go (since 1.22) draws its randomness from ProcessPrng in
 * bcryptprimitives.dll and refuses to start without it; Debian bookworm's
 * wine 8.0 has no such DLL, so `echotray.exe --version` could not run there.
 * This forwards ProcessPrng to BCryptGenRandom, which wine implements.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst; (void)reason; (void)reserved;
	return TRUE;
}
