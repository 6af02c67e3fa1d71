; EchoTray per-user installer (NSIS 3, Unicode, x86-64).
;
; Built by packaging/dist.sh with makensis; every product value comes from
; FyneApp.toml through -D defines:
;   APP_NAME APP_ID APP_BINARY APP_PUBLISHER APP_WEBSITE VERSION WIN_VERSION
;   SRC_DIR (folder holding the files below) OUT_FILE (the setup.exe to write)
;
; By default no administrator rights: everything goes under the user's
; profile and HKCU. With /ALLUSERS (run elevated, e.g. by a software
; deployment tool as SYSTEM) the same goes to every user:
;   program   $PROGRAMFILES64\<Name>\, shortcut in the common Start menu,
;   registry  HKLM instead of HKCU (AppUserModelId, Run, Uninstall).
; /SERVER writes %ProgramData%\<Name>\config.json, which EchoTray reads
; before the user's own settings (docs/install.md, "Deploying to many
; desktops"); it is kept on uninstall: it is IT's file.
;   program   $LOCALAPPDATA\Programs\<Name>\  (exe, icons, notices, uninstaller)
;   shortcut  Start menu\Programs\<Name>.lnk, carrying the AppUserModelID
;   registry  HKCU\Software\Classes\AppUserModelId\<ID>         (toast name and icon)
;             HKCU\Software\Microsoft\Windows\CurrentVersion\Run <Name>   (optional)
;             HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\<ID>
;
; Command line (setup.exe):    /S silent, /NOAUTOSTART do not start at sign-in,
;                              /SERVER=<url> write the machine-wide settings file
;                              %ProgramData%\<Name>\config.json with that server
;                              (needs administrator rights), /LOCK also lock it
;                              there ("locked": ["server"]),
;                              /ALLUSERS install for every user of the computer
;                              (needs administrator rights; see below),
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
; The machine-wide settings file (app.SystemConfigPath on Windows).
!define SYSTEM_CONFIG_DIR "$COMMONPROGRAMDATA\${APP_NAME}"
!define SYSTEM_CONFIG "${SYSTEM_CONFIG_DIR}\config.json"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "Sections.nsh"
!include "Win\COM.nsh"
!include "Win\Propkey.nsh"

Var AllUsers   ; 1: /ALLUSERS, a per-machine install
Var Server     ; /SERVER=<url>, empty when not given
Var LockServer ; 1: /LOCK

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
  Call SetContext
  Call StopRunning

  SetOutPath "$INSTDIR"
  File "${SRC_DIR}\${EXE}"
  File "${SRC_DIR}\${APP_BINARY}.ico"
  File "${SRC_DIR}\${APP_BINARY}.png"
  File "${SRC_DIR}\THIRD-PARTY-NOTICES.txt"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Toast identity: notifications sent with AppID ${APP_ID} show this name
  ; and icon (go-toast and beeep read nothing else).
  WriteRegStr SHCTX "${AUMID_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr SHCTX "${AUMID_KEY}" "IconUri" "$INSTDIR\${APP_BINARY}.png"

  CreateShortcut "${SHORTCUT}" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0 SW_SHOWNORMAL "" "${APP_NAME}"
  !insertmacro SetShortcutAUMID "${SHORTCUT}" "${APP_ID}"
  ${If} $0 <> 0
    DetailPrint "Could not set the AppUserModelID on the shortcut (error $0); notifications still use the registry name."
  ${EndIf}

  ; Apps & features (per user, or per machine with /ALLUSERS).
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINST_KEY}" "Publisher" "${APP_PUBLISHER}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${EXE},0"
  WriteRegStr SHCTX "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINST_KEY}" "URLInfoAbout" "${APP_WEBSITE}"
  WriteRegStr SHCTX "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr SHCTX "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD SHCTX "${UNINST_KEY}" "EstimatedSize" "$0"
SectionEnd

; The same value the app's own "Start at login" setting writes (app/autostart),
; so either can turn it off. --hidden: start in the notification area only.
Section "Start ${APP_NAME} when I sign in" SecAutostart
  Call SetContext
  WriteRegStr SHCTX "${RUN_KEY}" "${APP_NAME}" '"$INSTDIR\${EXE}" --hidden'
SectionEnd

; Reinstalling without the start-at-sign-in option removes an earlier one.
Section "-AutostartOff"
  Call SetContext
  ${IfNot} ${SectionIsSelected} ${SecAutostart}
    DeleteRegValue SHCTX "${RUN_KEY}" "${APP_NAME}"
  ${EndIf}
SectionEnd

; The machine-wide settings: only with /SERVER=<url>, and only as an
; administrator (a file any user could write would lock nothing).
Section "-SystemConfig"
  ${If} $Server == ""
    Return
  ${EndIf}
  SetShellVarContext all
  ClearErrors
  CreateDirectory "${SYSTEM_CONFIG_DIR}"
  FileOpen $0 "${SYSTEM_CONFIG}" w
  ${If} ${Errors}
    Call SetContext
    DetailPrint "Could not write ${SYSTEM_CONFIG}."
    MessageBox MB_ICONSTOP|MB_OK "${APP_NAME} could not write its settings for all users to ${SYSTEM_CONFIG}." /SD IDOK
    SetErrorLevel 5
    Abort
  ${EndIf}
  FileWrite $0 "{$\r$\n"
  FileWrite $0 '  "server": "$Server"'
  ${If} $LockServer == 1
    FileWrite $0 ',$\r$\n  "locked": ["server"]'
  ${EndIf}
  FileWrite $0 "$\r$\n}$\r$\n"
  FileClose $0
  Call SetContext
  ${If} $LockServer == 1
    DetailPrint "Wrote ${SYSTEM_CONFIG}: server $Server, locked."
  ${Else}
    DetailPrint "Wrote ${SYSTEM_CONFIG}: server $Server."
  ${EndIf}
SectionEnd

; SetContext selects the current user's or all users' folders and
; registry (SHCTX) for this install.
Function SetContext
  ${If} $AllUsers == 1
    SetShellVarContext all
  ${Else}
    SetShellVarContext current
  ${EndIf}
FunctionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecApp} "${APP_NAME}, its Start menu shortcut and its notification identity."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutostart} "Start ${APP_NAME} in the notification area when you sign in to Windows."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Function .onInit
  StrCpy $AllUsers 0
  StrCpy $LockServer 0
  StrCpy $Server ""
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/NOAUTOSTART" $R1
  ${IfNot} ${Errors}
    !insertmacro UnselectSection ${SecAutostart}
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/ALLUSERS" $R1
  ${IfNot} ${Errors}
    StrCpy $AllUsers 1
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/LOCK" $R1
  ${IfNot} ${Errors}
    StrCpy $LockServer 1
  ${EndIf}
  ; Not ${GetOptions}: it ends a value at the next "/", and a URL has some.
  Call GetServerOption
  ${If} $Server != ""
    Call CheckServer
  ${EndIf}
  ${If} $LockServer == 1
  ${AndIf} $Server == ""
    MessageBox MB_ICONSTOP|MB_OK "/LOCK needs /SERVER=https://your-server: it locks the server it sets." /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  ${If} $AllUsers == 1
  ${OrIf} $Server != ""
    UserInfo::GetAccountType
    Pop $R2
    ${If} $R2 != "Admin"
      MessageBox MB_ICONSTOP|MB_OK "Installing ${APP_NAME} for all users or setting its server for all users needs administrator rights. Run setup.exe as an administrator." /SD IDOK
      SetErrorLevel 740 ; ERROR_ELEVATION_REQUIRED
      Quit
    ${EndIf}
  ${EndIf}
  ; Per machine: Program Files, unless /D= named another folder.
  ${If} $AllUsers == 1
  ${AndIf} $INSTDIR == "$LOCALAPPDATA\Programs\${APP_NAME}"
    StrCpy $INSTDIR "$PROGRAMFILES64\${APP_NAME}"
  ${EndIf}
  Call SetContext
FunctionEnd

; GetServerOption sets $Server to the value of /SERVER=<url> on the
; command line (up to the next space or quote), or to "" without one.
Function GetServerOption
  ${GetParameters} $R0
  StrCpy $Server ""
  StrLen $R1 $R0
  StrCpy $R2 0
  ${DoWhile} $R2 < $R1
    StrCpy $R3 $R0 8 $R2
    ${If} $R3 == "/SERVER="
      IntOp $R2 $R2 + 8
      ${DoWhile} $R2 < $R1
        StrCpy $R3 $R0 1 $R2
        ${If} $R3 == " "
        ${OrIf} $R3 == '"'
          ${Break}
        ${EndIf}
        StrCpy $Server "$Server$R3"
        IntOp $R2 $R2 + 1
      ${Loop}
      ${If} $Server == ""
        StrCpy $Server "-" ; "/SERVER=" alone: refused by CheckServer
      ${EndIf}
      Return
    ${EndIf}
    IntOp $R2 $R2 + 1
  ${Loop}
FunctionEnd

; CheckServer refuses a /SERVER value that is not an http(s) address or
; that would break the JSON file (quotes, backslashes, control characters).
Function CheckServer
  StrCpy $R3 $Server 8
  StrCpy $R4 $Server 7
  ${If} $R3 != "https://"
  ${AndIf} $R4 != "http://"
    MessageBox MB_ICONSTOP|MB_OK '/SERVER must be the address of your billing server starting with https:// (or http://), like /SERVER=https://billing.example.com' /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  StrLen $R5 $Server
  StrCpy $R6 0
  ${DoWhile} $R6 < $R5
    StrCpy $R7 $Server 1 $R6
    ${If} $R7 == '"'
    ${OrIf} $R7 == "\"
    ${OrIf} $R7 == " "
    ${OrIf} $R7 == "$\t"
      MessageBox MB_ICONSTOP|MB_OK '/SERVER=$Server is not a server address (no spaces, quotes or backslashes).' /SD IDOK
      SetErrorLevel 2
      Quit
    ${EndIf}
    IntOp $R6 $R6 + 1
  ${Loop}
FunctionEnd

Section "un.${APP_NAME}" UnSecApp
  SectionIn RO
  Call un.SetContext
  Call un.StopRunning

  Delete "${SHORTCUT}"
  DeleteRegValue SHCTX "${RUN_KEY}" "${APP_NAME}"
  DeleteRegKey SHCTX "${AUMID_KEY}"
  DeleteRegKey SHCTX "${UNINST_KEY}"

  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\${APP_BINARY}.ico"
  Delete "$INSTDIR\${APP_BINARY}.png"
  Delete "$INSTDIR\THIRD-PARTY-NOTICES.txt"
  Delete "$INSTDIR\uninstall.exe"
  ; Not /r: anything the user put there stays.
  RMDir "$INSTDIR"
SectionEnd

Section /o "un.Remove my settings and notification history" UnSecData
  ; The user's own data, also after a per-machine install; the machine-wide
  ; settings file (%ProgramData%) is IT's and stays.
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
  ; A per-machine install has its Uninstall key in HKLM pointing here.
  StrCpy $AllUsers 0
  ReadRegStr $R1 HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $R1 == $INSTDIR
    StrCpy $AllUsers 1
    UserInfo::GetAccountType
    Pop $R2
    ${If} $R2 != "Admin"
      MessageBox MB_ICONSTOP|MB_OK "${APP_NAME} is installed for all users: removing it needs administrator rights." /SD IDOK
      SetErrorLevel 740
      Quit
    ${EndIf}
  ${EndIf}
  Call un.SetContext
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/REMOVEDATA" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${UnSecData}
  ${EndIf}
FunctionEnd

Function un.SetContext
  ${If} $AllUsers == 1
    SetShellVarContext all
  ${Else}
    SetShellVarContext current
  ${EndIf}
FunctionEnd
