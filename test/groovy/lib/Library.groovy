import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy

/** Stand-in for Jenkins' @Library, so a Jenkinsfile compiles and runs in the loose DSL. */
@Retention(RetentionPolicy.RUNTIME)
@interface Library {
  String[] value()
}
