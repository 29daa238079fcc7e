/** Stand-in for `currentBuild` (RunWrapper): the properties the steps set. */
class BuildStub {
  String description
  String displayName
  String result
}
