/**
 * Base class for running a Jenkinsfile loosely: every declarative section is a method whose closure
 * runs at once, in the order written; calls of the library's steps go to a PipelineHarness.
 */
abstract class DeclarativeScript extends Script {
  Object invokeMethod(String name, Object args) {
    LooseDeclarative dsl = (LooseDeclarative) getBinding().getVariable('__dsl')
    Object[] argv = args instanceof Object[] ? (Object[]) args : ([args] as Object[])
    return dsl.call(name, argv)
  }

  Object getProperty(String name) {
    if (getBinding().hasVariable(name)) {
      return getBinding().getVariable(name)
    }
    return name   // `agent any`, `unit: MINUTES` and the like
  }

  void setProperty(String name, Object value) {
    LooseDeclarative dsl = (LooseDeclarative) getBinding().getVariable('__dsl')
    if (dsl.blocks && dsl.blocks[-1] == 'environment') {
      dsl.harness.env.setProperty(name, value)
    } else {
      getBinding().setVariable(name, value)
    }
  }
}
