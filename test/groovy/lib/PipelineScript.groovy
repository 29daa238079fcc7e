/**
 * Base class of the vars/*.groovy scripts in the harness (Jenkins uses CpsScript): a call that the
 * script does not define goes to a pipeline step of the harness, or to another var's call().
 */
abstract class PipelineScript extends Script {
  Object invokeMethod(String name, Object args) {
    PipelineHarness harness = (PipelineHarness) getBinding().getVariable('__harness')
    Object[] argv = args instanceof Object[] ? (Object[]) args : ([args] as Object[])
    if (harness.steps.containsKey(name)) {
      return harness.callStep(name, argv)
    }
    if (harness.vars.containsKey(name)) {
      return harness.vars[name].invokeMethod('call', argv)
    }
    return super.invokeMethod(name, args)
  }
}
