using Firestarter.Cluster;
using Firestarter.Matching;

namespace Firestarter.Tests.Cluster;

public class DirectoryKeysTests
{
    private readonly DirectoryKeys _keys = new("fs");

    [Fact]
    public void Equal_keys_have_one_entry_and_each_field_makes_a_different_one()
    {
        var key = new MatchKey("dep", "1", 0.5, 1);
        var entry = _keys.Entry(key).ToString();

        Assert.Equal(entry, _keys.Entry(new MatchKey("dep", "1", 0.50, 1.0)).ToString());
        Assert.Equal(entry, _keys.Entry(new MatchKey("dep", "1", 0.5, 1 - 0.0)).ToString());
        Assert.Distinct(new[]
        {
            entry,
            _keys.Entry(new MatchKey("dep2", "1", 0.5, 1)).ToString(),
            _keys.Entry(new MatchKey("dep", "2", 0.5, 1)).ToString(),
            _keys.Entry(new MatchKey("dep", "1", 1, 1)).ToString(),
            _keys.Entry(new MatchKey("dep", "1", 0.5, 2)).ToString(),
        });
    }

    [Fact]
    public void Separators_inside_the_fields_cannot_make_two_keys_one()
    {
        Assert.NotEqual(
            _keys.Entry(new MatchKey("a:1", "2", 1, 1)).ToString(),
            _keys.Entry(new MatchKey("a", "1:2", 1, 1)).ToString());
    }

    [Fact]
    public void Every_key_lives_under_the_prefix()
    {
        Assert.StartsWith("fs:", _keys.Entry(new MatchKey("d", "v", 1, 1)).ToString());
        Assert.StartsWith("fs:", _keys.Lease("abc").ToString());
        Assert.StartsWith("fs:", _keys.Instances.ToString());
        Assert.StartsWith("fs:", _keys.Secret.ToString());
    }
}
