import groovy.json.JsonSlurper

/** Where the repository is; set by runner.groovy. */
class Repo {
  static File root

  static File file(String path) {
    return new File(root, path)
  }

  static String text(String path) {
    return file(path).getText('UTF-8')
  }

  /** package.json's "version": the one source of the version. */
  static String packageVersion() {
    return new JsonSlurper().parse(file('package.json')).version
  }
}
