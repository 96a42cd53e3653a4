// The library under one name: every stage, from the sealed vault's sodium to
// doctor, for the executable and the tests (ARCHITECTURE.md draws the stages).
@_exported import TokenrunAudit
@_exported import TokenrunDoctor
@_exported import TokenrunLaunch
@_exported import TokenrunOAuth
@_exported import TokenrunProfiles
@_exported import TokenrunRefresh
@_exported import TokenrunServers
@_exported import TokenrunSodium
@_exported import TokenrunSupport
@_exported import TokenrunVault
