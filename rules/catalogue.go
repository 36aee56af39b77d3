package rules

// The marketplace profile's rules in the order they run and are reported:
// the order of the rule reference. Each rule is defined in the file of its catalogue
// section; the img_check profile registers its own list (rules/imgcheck).
func init() {
	for _, r := range marketplace {
		Register(Marketplace, r)
	}
}

var marketplace = []Rule{
	// disk integrity first: a truncated image explains the ERRORs of every other rule
	diskIntegrityRule,
	// OS and base software
	osSupportedRule,
	osReleaseRule,
	osEolRule,
	cloudinitInstalledRule,
	cloudinitVersionRule,
	cloudinitEnabledRule,
	cloudinitDatasourceRule,
	cloudinitNetworkRule,
	netStaticConfigRule,
	sshServerRule,
	fwActiveRule,
	pkgSecurityUpdatesRule,
	pkgMongodbSsplRule,
	// logs (logs.uncleared is shared with cleanup)
	logsUnclearedRule,
	// agent
	agentDoDirRule,
	agentDoLeftoversRule,
	// accounts, keys, history
	accountsPasswordRule,
	accountsLockedHashRule,
	accountsEmptyPasswordRule,
	accountsUid0Rule,
	accountsUsersRule,
	accountsShadowBackupRule,
	sshAuthorizedKeysRule,
	sshPrivateKeysRule,
	sshKnownHostsRule,
	sshDirOtherRule,
	historyShellRule,
	// cleanup leftovers and hygiene
	cleanTmpPermsRule,
	cleanTmpContentsRule,
	cleanPkgCacheRule,
	logsRotatedRule,
	logsJournalRule,
	logsLoginRecordsRule,
	cleanCloudInstanceRule,
	cleanSshHostKeysRule,
	cleanRevokedKeysRule,
	cleanZerofileRule,
	cleanMachineIdRule,
	cleanMailSpoolRule,
	cleanUdevNetRule,
	cleanIfcfgHwaddrRule,
	cleanCrashDumpsRule,
	cleanDhcpLeasesRule,
	secretsDbaasCredentialsRule,
	secretsDatabaseUrlRule,
	secretsDoPasswordRule,
	secretsTlsPrivateKeysRule,
	firstbootExecutableRule,
	firstbootSshLockRule,
	motdExecutableRule,
	sshdPasswordAuthRule,
	sshdRootLoginRule,
	sshdEmptyPasswordsRule,
	// disk
	diskLayoutRule,
	diskFsStateRule,
	diskMinSizeRule,
	diskPlansRule,
	diskShrinkHintRule,
	diskUploadLimitRule,
	diskUploadFormatRule,
	diskRootFSRule,
	// boot path (whole-disk images)
	bootKernelRule,
	bootLoaderRule,
	bootVirtioRule,
	// DigitalOcean API cross-check (scan --do-image)
	doImageRule,
}
