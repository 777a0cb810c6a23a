package org.leukolab;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The library's packages follow the pipeline and depend only downward: a package may use the packages listed
 * before it, never one listed after it. A new package must be placed in this list.
 */
class LayeringTest {
    /** Lowest first. system, notebook and backend are foundations every stage may use. */
    static final List<String> LAYERS = List.of(
            "system", "notebook", "backend",
            "data", "preprocessing", "balancing", "augmentation", "metrics",
            "models", "training", "evaluation", "plots", "compare",
            "reports");

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.leukolab");

    @Test
    void everyPackageHasItsPlaceInTheLayers() {
        Set<String> found = CLASSES.stream().map(JavaClass::getPackageName)
                .map(p -> p.substring("org.leukolab.".length()).split("\\.")[0]).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(LAYERS), found, "packages of org.leukolab vs the layer list in LayeringTest");
    }

    @Test
    void packagesDependOnlyOnLowerLayers() {
        for (int i = 0; i < LAYERS.size(); i++) {
            List<String> higher = LAYERS.subList(i + 1, LAYERS.size()).stream().map(p -> "org.leukolab." + p + "..").toList();
            if (higher.isEmpty()) {
                continue;
            }
            noClasses().that().resideInAPackage("org.leukolab." + LAYERS.get(i) + "..")
                    .should().dependOnClassesThat().resideInAnyPackage(higher.toArray(String[]::new))
                    .because(LAYERS.get(i) + " sits below " + LAYERS.subList(i + 1, LAYERS.size()) + " in the pipeline")
                    .check(CLASSES);
        }
    }
}
