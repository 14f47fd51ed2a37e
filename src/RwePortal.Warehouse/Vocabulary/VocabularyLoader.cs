using Npgsql;
using NpgsqlTypes;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Warehouse.Vocabulary;

/// <summary>Writes <see cref="VocabularySubset"/> into the vocabulary tables of a CDM schema with binary COPY.</summary>
public static class VocabularyLoader
{
    public static readonly DateOnly ValidStart = new(1970, 1, 1);
    public static readonly DateOnly ValidEnd = new(2099, 12, 31);

    /// <summary>The vocabulary tables this loader replaces.</summary>
    public static IReadOnlyList<string> Tables { get; } =
        ["concept", "concept_ancestor", "concept_relationship", "vocabulary", "domain", "concept_class"];

    /// <summary>
    /// Replaces the vocabulary tables of <paramref name="schemaName"/> with the shipped subset (on the caller's
    /// connection and transaction). Returns rows written per table.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, long>> ReplaceAsync(NpgsqlConnection connection, string schemaName, CancellationToken cancellationToken)
    {
        SchemaName.Validate(schemaName);
        await using (var truncate = new NpgsqlCommand($"TRUNCATE {string.Join(", ", Tables.Select(t => schemaName + "." + t))}", connection))
        {
            await truncate.ExecuteNonQueryAsync(cancellationToken);
        }

        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var w = await connection.BeginBinaryImportAsync(
            $"COPY {schemaName}.concept (concept_id, concept_name, domain_id, vocabulary_id, concept_class_id, standard_concept, concept_code, valid_start_date, valid_end_date) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            foreach (var c in VocabularySubset.Concepts)
            {
                await w.StartRowAsync(cancellationToken);
                await w.WriteAsync(c.ConceptId, NpgsqlDbType.Integer, cancellationToken);
                await w.WriteAsync(c.ConceptName, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(c.DomainId, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(c.VocabularyId, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(c.ConceptClassId, NpgsqlDbType.Varchar, cancellationToken);
                if (c.StandardConcept is null)
                {
                    await w.WriteNullAsync(cancellationToken);
                }
                else
                {
                    await w.WriteAsync(c.StandardConcept, NpgsqlDbType.Varchar, cancellationToken);
                }

                await w.WriteAsync(c.ConceptCode, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(ValidStart, NpgsqlDbType.Date, cancellationToken);
                await w.WriteAsync(ValidEnd, NpgsqlDbType.Date, cancellationToken);
            }

            counts["concept"] = (long)await w.CompleteAsync(cancellationToken);
        }

        await using (var w = await connection.BeginBinaryImportAsync(
            $"COPY {schemaName}.concept_ancestor (ancestor_concept_id, descendant_concept_id, min_levels_of_separation, max_levels_of_separation) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            foreach (var a in VocabularySubset.Ancestors)
            {
                await w.StartRowAsync(cancellationToken);
                await w.WriteAsync(a.AncestorConceptId, NpgsqlDbType.Integer, cancellationToken);
                await w.WriteAsync(a.DescendantConceptId, NpgsqlDbType.Integer, cancellationToken);
                await w.WriteAsync(a.MinLevelsOfSeparation, NpgsqlDbType.Integer, cancellationToken);
                await w.WriteAsync(a.MaxLevelsOfSeparation, NpgsqlDbType.Integer, cancellationToken);
            }

            counts["concept_ancestor"] = (long)await w.CompleteAsync(cancellationToken);
        }

        await using (var w = await connection.BeginBinaryImportAsync(
            $"COPY {schemaName}.concept_relationship (concept_id_1, concept_id_2, relationship_id, valid_start_date, valid_end_date) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            foreach (var r in VocabularySubset.Relationships)
            {
                await w.StartRowAsync(cancellationToken);
                await w.WriteAsync(r.ConceptId1, NpgsqlDbType.Integer, cancellationToken);
                await w.WriteAsync(r.ConceptId2, NpgsqlDbType.Integer, cancellationToken);
                await w.WriteAsync(r.RelationshipId, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(ValidStart, NpgsqlDbType.Date, cancellationToken);
                await w.WriteAsync(ValidEnd, NpgsqlDbType.Date, cancellationToken);
            }

            counts["concept_relationship"] = (long)await w.CompleteAsync(cancellationToken);
        }

        await using (var w = await connection.BeginBinaryImportAsync(
            $"COPY {schemaName}.vocabulary (vocabulary_id, vocabulary_name, vocabulary_reference, vocabulary_version, vocabulary_concept_id) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            foreach (var v in VocabularySubset.Vocabularies)
            {
                await w.StartRowAsync(cancellationToken);
                await w.WriteAsync(v.VocabularyId, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(v.VocabularyName, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(v.VocabularyReference, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(v.VocabularyVersion, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(v.VocabularyConceptId, NpgsqlDbType.Integer, cancellationToken);
            }

            counts["vocabulary"] = (long)await w.CompleteAsync(cancellationToken);
        }

        await using (var w = await connection.BeginBinaryImportAsync(
            $"COPY {schemaName}.domain (domain_id, domain_name, domain_concept_id) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var d in VocabularySubset.Domains)
            {
                await w.StartRowAsync(cancellationToken);
                await w.WriteAsync(d.DomainId, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(d.DomainName, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(d.DomainConceptId, NpgsqlDbType.Integer, cancellationToken);
            }

            counts["domain"] = (long)await w.CompleteAsync(cancellationToken);
        }

        await using (var w = await connection.BeginBinaryImportAsync(
            $"COPY {schemaName}.concept_class (concept_class_id, concept_class_name, concept_class_concept_id) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var c in VocabularySubset.ConceptClasses)
            {
                await w.StartRowAsync(cancellationToken);
                await w.WriteAsync(c.ConceptClassId, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(c.ConceptClassName, NpgsqlDbType.Varchar, cancellationToken);
                await w.WriteAsync(c.ConceptClassConceptId, NpgsqlDbType.Integer, cancellationToken);
            }

            counts["concept_class"] = (long)await w.CompleteAsync(cancellationToken);
        }

        return counts;
    }
}
