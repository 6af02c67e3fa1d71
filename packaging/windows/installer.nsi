; EchoTray per-user installer (NSIS 3, Unicode, x86-64).
;
; Built by packaging/dist.sh with makensis; every product value comes from
; FyneApp.toml through -D defines:
;   APP_NAME APP_ID APP_BINARY APP_PUBLISHER APP_WEBSITE VERSION WIN_VERSION
;   SRC_DIR (folder holding the files below) OUT_FILE (the setup.exe to write)
;
; No administrator rights: everything goes under the user's profile and HKCU.
;   program   $LOCALAPPDATA\Programs\<Name>\  (exe, icons, notices, uninstaller)
;   shortcut  Start menu\Programs\<Name>.lnk, carrying the AppUserModelID
;   registry  HKCU\Software\Classes\AppUserModelId\<ID>         (toast name and icon)
;             HKCU\Software\Microsoft\Windows\CurrentVersion\Run <Name>   (optional)
;             HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\<ID>
;
; Command line (setup.exe):    /S silent, /NOAUTOSTART do not start at sign-in,
;                              /D=<folder> install folder (last, unquoted)
; Command line (uninstall.exe): /S silent (keeps user data), /REMOVEDATA also
;                              deletes settings, history and cached data

!macro RequireDefine NAME
  !ifndef ${NAME}
    !error "${NAME} is not defined: build this installer with packaging/dist.sh windows"
  !endif
!macroend
!insertmacro RequireDefine APP_NAME
!insertmacro RequireDefine APP_ID
!insertmacro RequireDefine APP_BINARY
!insertmacro RequireDefine APP_PUBLISHER
!insertmacro RequireDefine APP_WEBSITE
!insertmacro RequireDefine VERSION
!insertmacro RequireDefine WIN_VERSION
!insertmacro RequireDefine SRC_DIR
!insertmacro RequireDefine OUT_FILE

Unicode true
Target amd64-unicode
SetCompressor /SOLID lzma
RequestExecutionLevel user
ManifestDPIAware true
ManifestSupportedOS Win10
SetDateSave on

!define EXE "${APP_BINARY}.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"
!define AUMID_KEY "Software\Classes\AppUserModelId\${APP_ID}"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define SHORTCUT "$SMPROGRAMS\${APP_NAME}.lnk"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "Sections.nsh"
!include "Win\COM.nsh"
!include "Win\Propkey.nsh"

Name "${APP_NAME}"
OutFile "${OUT_FILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP_NAME}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
BrandingText "${APP_NAME} ${VERSION}"
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${WIN_VERSION}"
VIFileVersion "${WIN_VERSION}"
VIAddVersionKey /LANG=1033 "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "CompanyName" "${APP_PUBLISHER}"
VIAddVersionKey /LANG=1033 "FileDescription" "${APP_NAME} ${VERSION} Setup"
VIAddVersionKey /LANG=1033 "FileVersion" "${WIN_VERSION}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "${APP_PUBLISHER}"

!define MUI_ICON "${SRC_DIR}\${APP_BINARY}.ico"
!define MUI_UNICON "${SRC_DIR}\${APP_BINARY}.ico"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_SMALLDESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APP_NAME} now"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; SetShortcutAUMID writes System.AppUserModel.ID into an existing .lnk, so the
; shell ties the shortcut, the taskbar button and the toasts sent with that
; ID to one app (the icon and name then come from the shortcut and from the
; AppUserModelId registry key). Uses only NSIS's own COM headers (no WinShell
; plugin). Sets $0 to 0 when done, to an error code otherwise.
!macro SetShortcutAUMID LNK AUMID
  Push $1
  Push $2
  Push $3
  Push $4
  Push $5
  Push $6
  StrCpy $0 1
  !insertmacro ComHlpr_CreateInProcInstance ${CLSID_ShellLink} ${IID_IShellLink} r1 ""
  ${If} $1 P<> 0
    ${IUnknown::QueryInterface} $1 '("${IID_IPersistFile}",.r2)'
    ${If} $2 P<> 0
      ${IPersistFile::Load} $2 '("${LNK}",${STGM_READWRITE}).r5'
      ${If} $5 = 0
        ${IUnknown::QueryInterface} $1 '("${IID_IPropertyStore}",.r3)'
        ${If} $3 P<> 0
          System::Call '*(&w128 "${AUMID}")p.r4'
          System::Call '*${SYSSTRUCT_PROPVARIANT}(${VT_LPWSTR},,r4)p.r5'
          System::Call '*${SYSSTRUCT_PROPERTYKEY}(${PKEY_AppUserModel_ID})p.r6'
          ${IPropertyStore::SetValue} $3 '(r6,r5).r0'
          ${If} $0 = 0
            ${IPropertyStore::Commit} $3 '().r0'
          ${EndIf}
          System::Free $4
          System::Free $5
          System::Free $6
          ${IUnknown::Release} $3 ""
          ${If} $0 = 0
            ${IPersistFile::Save} $2 '("${LNK}",1).r0'
          ${EndIf}
        ${EndIf}
      ${EndIf}
      ${IUnknown::Release} $2 ""
    ${EndIf}
    ${IUnknown::Release} $1 ""
  ${EndIf}
  Pop $6
  Pop $5
  Pop $4
  Pop $3
  Pop $2
  Pop $1
!macroend

; StopRunning ends a running copy of the app (this user's session only), so
; its files can be replaced or removed.
!macro StopRunningFn un
Function ${un}StopRunning
  Push $0
  Push $1
  ReadEnvStr $1 "USERNAME"
  nsExec::ExecToLog '"$SYSDIR\taskkill.exe" /F /IM "${EXE}" /FI "USERNAME eq $1"'
  Pop $0
  ; taskkill returns before the process is gone; give Windows a moment to
  ; release the executable.
  ${If} $0 = 0
    Sleep 1500
  ${EndIf}
  Pop $1
  Pop $0
FunctionEnd
!macroend
!insertmacro StopRunningFn ""
!insertmacro StopRunningFn "un."

Section "!${APP_NAME}" SecApp
  SectionIn RO
  SetShellVarContext current
  Call StopRunning

  SetOutPath "$INSTDIR"
  File "${SRC_DIR}\${EXE}"
  File "${SRC_DIR}\${APP_BINARY}.ico"
  File "${SRC_DIR}\${APP_BINARY}.png"
  File "${SRC_DIR}\THIRD-PARTY-NOTICES.txt"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Toast identity: notifications sent with AppID ${APP_ID} show this name
  ; and icon (go-toast and beeep read nothing else).
  WriteRegStr HKCU "${AUMID_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKCU "${AUMID_KEY}" "IconUri" "$INSTDIR\${APP_BINARY}.png"

  CreateShortcut "${SHORTCUT}" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0 SW_SHOWNORMAL "" "${APP_NAME}"
  !insertmacro SetShortcutAUMID "${SHORTCUT}" "${APP_ID}"
  ${If} $0 <> 0
    DetailPrint "Could not set the AppUserModelID on the shortcut (error $0); notifications still use the registry name."
  ${EndIf}

  ; Apps & features (per user).
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${APP_PUBLISHER}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${EXE},0"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "URLInfoAbout" "${APP_WEBSITE}"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" "$0"
SectionEnd

; The same value the app's own "Start at login" setting writes (app/autostart),
; so either can turn it off. --hidden: start in the notification area only.
Section "Start ${APP_NAME} when I sign in" SecAutostart
  WriteRegStr HKCU "${RUN_KEY}" "${APP_NAME}" '"$INSTDIR\${EXE}" --hidden'
SectionEnd

; Reinstalling without the start-at-sign-in option removes an earlier one.
Section "-AutostartOff"
  ${IfNot} ${SectionIsSelected} ${SecAutostart}
    DeleteRegValue HKCU "${RUN_KEY}" "${APP_NAME}"
  ${EndIf}
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecApp} "${APP_NAME}, its Start menu shortcut and its notification identity."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutostart} "Start ${APP_NAME} in the notification area when you sign in to Windows."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Function .onInit
  SetShellVarContext current
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/NOAUTOSTART" $R1
  ${IfNot} ${Errors}
    !insertmacro UnselectSection ${SecAutostart}
  ${EndIf}
FunctionEnd

Section "un.${APP_NAME}" UnSecApp
  SectionIn RO
  SetShellVarContext current
  Call un.StopRunning

  Delete "${SHORTCUT}"
  DeleteRegValue HKCU "${RUN_KEY}" "${APP_NAME}"
  DeleteRegKey HKCU "${AUMID_KEY}"
  DeleteRegKey HKCU "${UNINST_KEY}"

  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\${APP_BINARY}.ico"
  Delete "$INSTDIR\${APP_BINARY}.png"
  Delete "$INSTDIR\THIRD-PARTY-NOTICES.txt"
  Delete "$INSTDIR\uninstall.exe"
  ; Not /r: anything the user put there stays.
  RMDir "$INSTDIR"
SectionEnd

Section /o "un.Remove my settings and notification history" UnSecData
  SetShellVarContext current
  RMDir /r "$LOCALAPPDATA\${APP_NAME}"
  RMDir /r "$APPDATA\${APP_NAME}"
  RMDir /r "$APPDATA\fyne\${APP_ID}"
  RMDir "$APPDATA\fyne"
SectionEnd

!insertmacro MUI_UNFUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecApp} "The program, its shortcut and its registry entries."
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecData} "Also delete your ${APP_NAME} settings and notification history. Your sign-in token is removed from Windows Credential Manager when you sign out in the app."
!insertmacro MUI_UNFUNCTION_DESCRIPTION_END

Function un.onInit
  SetShellVarContext current
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/REMOVEDATA" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${UnSecData}
  ${EndIf}
FunctionEnd
