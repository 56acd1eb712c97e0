namespace EnvelopeKms.Integrations.Tests.EntityFrameworkCore;

public sealed class ViaServiceScopeTests
{
    [Fact]
    public async Task Scopes_nest_flow_across_awaits_and_restore_the_outer_service()
    {
        Assert.Null(ViaServiceScope.Current);
        using (ViaServiceScope.Begin("outer.service"))
        {
            await Task.Yield();
            Assert.Equal("outer.service", ViaServiceScope.Current);
            using (ViaServiceScope.Begin("inner.service"))
            {
                Assert.Equal("inner.service", await Task.Run(() => ViaServiceScope.Current));
            }

            Assert.Equal("outer.service", ViaServiceScope.Current);
        }

        Assert.Null(ViaServiceScope.Current);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\tinside")]
    public void A_name_that_is_empty_or_has_whitespace_is_refused(string name)
        => Assert.Throws<ArgumentException>(() => ViaServiceScope.Begin(name));

    [Fact]
    public void A_name_longer_than_256_characters_is_refused()
        => Assert.Throws<ArgumentException>(() => ViaServiceScope.Begin(new string('a', 257)));
}
