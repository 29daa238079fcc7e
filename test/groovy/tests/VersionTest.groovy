/** The library runs the CLI of its own version: every pin follows package.json's "version". */
class VersionTest {
  @Test
  void 'shopsysCi version equals package json version'() {
    PipelineHarness h = PipelineHarness.create()
    String version = Repo.packageVersion()
    assert version ==~ /\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?/
    assert h.vars.shopsysCi.version() == version:
      "vars/shopsysCi.groovy version() says ${h.vars.shopsysCi.version()}, package.json says ${version}: update version()"
    assert h.vars.shopsysCi.defaultCli() == 'npx --yes shopsys-kube-ci@' + version
  }

  @Test
  void 'buildpack installs the same version'() {
    String version = Repo.packageVersion()
    def m = Repo.text('buildpack/Dockerfile') =~ /(?m)^ARG SHOPSYS_CI_VERSION=(\S+)$/
    assert m.find(): 'buildpack/Dockerfile has no ARG SHOPSYS_CI_VERSION=<version>'
    assert m.group(1) == version: "buildpack/Dockerfile installs ${m.group(1)}, package.json says ${version}"
  }
}
